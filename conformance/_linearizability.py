"""Is a recorded history linearizable with respect to the model in ``spec``?

The search is Wing & Gong's, with Lowe's memoisation and Porcupine's three verdicts: it
looks for one order of the history's operations that the model accepts and that respects
real time; every point of the search it has explored (finished operations, parked
operations, model state, handle mapping) is remembered, so it is never explored twice.
The search is counted in *steps*, one per question put to the model (a ``step`` or a
``can_complete``); when ``budget`` steps have been spent without a decision the verdict is
UNKNOWN, and the message says so.  Deciding linearizability is NP-complete in general, so
a budget is the honest interface.

How history operations become model operations
-----------------------------------------------
*Messages* are the history's values (strings or ints), used directly as model tokens,
with one exception: every message that no receive in the history returned is replaced by
a single token, ``_NEVER_RECEIVED``.  The model never compares tokens, and no recorded
outcome can tell such messages apart (a receive that returned names a message that is
received, by definition; a failed send's outcome carries its own value), so the verdict
is the same; but the order in which never-received messages sit in a buffer no longer
splits the memo, which is what made refuting unbounded-channel histories expensive.  The
evidence is recomputed with the real messages (see Evidence).  A failed send's outcome
carries its value (``Failed(kind, value)``), a failed receive's ``NO_VALUE``.

*Sender handles* are renamed, not compared.  The model numbers clones in the order they
take effect; the history numbers a clone by what the implementation's ``clone``
returned.  Two overlapping clones may take effect in either order, so requiring equal
numbers would wrongly reject legal histories.  Instead the search carries a mapping from
history handle numbers to model handle numbers (``0`` to ``FIRST_SENDER`` at the start):
a clone that returned ``r`` and takes effect as the model's ``NewSender(m)`` adds
``r -> m``; a clone returning a number already mapped is illegal; an operation through
handle ``h`` can take effect only once ``h`` is mapped (its clone has taken effect), and
uses the model's number.  The mapping is part of the memo key, since one model state can
be reached under different mappings.  An operation through a handle that no clone in the
history returned makes the history illegal outright.

*One point or two.*  A non-blocking operation (``try_send``, ``try_recv``, ``clone``, the
closes) takes effect at one point of its interval ``[invoke, respond]``, and the model's
outcome there must equal the recorded one.  So does a blocking operation that completes
without waiting.  A blocking operation may instead *park*: at a point where the model
cannot complete it, ``step`` returns ``Blocked(ticket)``; later, no later than its
response, ``Resume(ticket)`` completes it (only when ``can_complete`` allows it), and that
outcome must equal the recorded one.  Two points are what make rendezvous work: a
``try_recv`` succeeds only by taking a parked sender's value, a ``try_send`` only by
handing to a parked receiver, a ``send`` returns only after its value was taken.  A timed
operation recorded as ``timeout`` must park and then be cancelled (``Cancel(ticket)``
must give ``Failed(TIMEOUT)``).

*Pending operations* (never returned) need not take effect at all; one may take effect
(with whatever outcome the model gives: nobody saw it) or park, at any point after its
invocation, and never needs to complete.  Letting it take effect is required, not
generous: a send cut off before it returned may still have delivered its value (the
standard completion of a history, as in Herlihy & Wing).

Real time and program order
---------------------------
Operation ``a`` precedes ``b`` when ``a.respond < b.invoke`` (strictly: equal times
count as overlapping), and a thread's calls take effect in the order it made them (even
when a coarse clock gives one's response and the next one's invocation the same time).
The next event may be any event of a thread's next unfinished call, if that call was
invoked no later than the earliest response among the calls not yet finished (Wing &
Gong's "minimal operations"; a parked call's completion is bounded by its response like
any other point; pending calls bound nothing).

Reductions (each only removes orders that cannot change the verdict)
---------------------------------------------------------------------
They rest on two facts about the model, and ``tests/test_linearizability.py`` checks the
verdicts against an exhaustive search that uses none of them:

* A waiter that stays *unresolved* until it completes is invisible to every other
  operation: rendezvous partners take the oldest unresolved waiter and closes resolve
  them all, so one that was ever used would have been resolved.  Hence a timed
  operation that timed out is "park and cancel at once", legal wherever the model could
  not complete it; a parked pending operation is never resumed (that is the same as
  taking effect at that point without having parked); and on a *buffered* channel, where
  only a close can resolve a waiter and a close gives a later attempt the same outcome,
  nothing parks at all: a send or receive that blocked takes effect where it completed.
  The two-point treatment is used on rendezvous channels, where it matters.
* A *resolved* waiter is inert: resuming it only removes it.  So a parked call is
  completed as soon as it is resolved; a resolution other than the recorded outcome
  kills the branch at once.

And a generic one: an event that leaves the model state unchanged and gives the recorded
outcome (an ``Empty``, a ``Full``, a failed send, an idempotent close, a timeout) is
taken at once, with no alternatives tried: finishing a call earlier only relaxes the
constraints on the others, and it changes nothing for them.

A hint orders the alternatives (never the verdict): a successful send is tried in the
order its message was received, one never received as late as possible, anything else by
its response time.  On a legal history this usually finds a linearization without
backtracking.

Cost
----
Exponential in the worst case.  With the memo, the points explored are bounded by the
sets of finished calls that real time and program order allow (at most (calls per
thread) ** threads) times the model states and handle mappings reachable with each.
Measured on histories made by running the model with 4-5 threads: a legal one takes
2-3 steps per operation (40 operations: about 100-160 steps, 5 ms); refuting one with a
single perturbed outcome took a median of 50-500 steps, the worst of 160 such 40-operation
histories 17,000 steps (0.5 s, an unbounded channel, where many sends overlap and the
receives fix their order only much later).  The model's ``State`` records the next ticket
number, so orders that park a different number of calls reach distinct states even when
otherwise equal; on buffered channels, where nothing parks, this never happens.

Evidence
--------
For a violation, the Finding's ``operations`` are those of the longest linearizable prefix
the search found, in linearization order, then the operation that could not take effect
after it (the unfinished one that must respond first); the message names that operation
and what the model gives for it there, recomputed with the real messages.  For UNKNOWN,
the same prefix, and the steps spent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from conformance._evidence import Finding, Verdict3
from conformance.history import History, HistoryError, Kind, Operation, Status
from spec import (
    FIRST_SENDER,
    NO_VALUE,
    Blocked,
    Cancel,
    Clone,
    CloseReceiver,
    CloseSender,
    Done,
    ErrorKind,
    Failed,
    Got,
    NewSender,
    Op,
    Outcome,
    Recv,
    RecvTimeout,
    Resume,
    Send,
    SendTimeout,
    State,
    Token,
    TryRecv,
    TrySend,
    can_complete,
    initial,
    step,
)

__all__ = ["CHECK", "DEFAULT_BUDGET", "check_linearizable"]

CHECK = "linearizability"
"""The ``check`` name of every Finding this module returns."""

DEFAULT_BUDGET = 100_000
"""Search steps (questions to the model: ``step`` or ``can_complete``) before the verdict is
UNKNOWN.  A step costs about 25 microseconds, so this is a few seconds of search at most."""

_INF = float("inf")

_ERRORS = {
    Status.DISCONNECTED: ErrorKind.DISCONNECTED,
    Status.EMPTY: ErrorKind.EMPTY,
    Status.FULL: ErrorKind.FULL,
    Status.TIMEOUT: ErrorKind.TIMEOUT,
    Status.HANDLE_CLOSED: ErrorKind.HANDLE_CLOSED,
}

_TIMED = (Kind.SEND_TIMEOUT, Kind.RECV_TIMEOUT)

# Event labels, for the evidence.
_POINT = "takes effect"
_PARK = "parks"
_RESUME = "completes"
_TIMEOUT = "parks and times out"


class _NeverReceived:
    """Type of :data:`_NEVER_RECEIVED`."""

    def __repr__(self) -> str:
        return "<a message no receive returned>"


_NEVER_RECEIVED: Token = _NeverReceived()
"""The one model token standing for every message that no receive in the history returned."""

_Handles = tuple[tuple[int, int], ...]
"""History handle number -> model handle number, as sorted pairs (hashable)."""


@dataclass(frozen=True)
class _Call:
    """One history operation, prepared for the search."""

    index: int  # in invocation order
    thread: int
    op: Operation
    pending: bool
    expected: Outcome | None  # None: pending (any outcome); for a clone, NewSender(-1) is a wildcard
    times_out: bool  # a timed op recorded as timeout: park, then cancel
    token: Token  # what a send sends, as the model sees it (see "Messages" above)
    rank: tuple[float, float, int]  # the order in which the search tries it (a hint only)


@dataclass(frozen=True)
class _Node:
    """A point of the search.  A thread makes one call at a time, so which calls have
    finished is, per thread, how many; at most one per thread is parked."""

    at: tuple[int, ...]  # per thread: its calls finished so far (a pending one: took effect)
    tickets: tuple[int, ...]  # per thread: the ticket of its parked call, or -1
    state: State
    handles: _Handles


_Event = tuple[int, str]
_Child = tuple[list[_Event], _Node]


class _OutOfBudget(Exception):
    pass


class _Dead(Exception):
    """A resolved waiter's outcome differs from the history's: the branch is hopeless."""


@dataclass
class _Search:
    threads: tuple[tuple[_Call, ...], ...]
    capacity: int | None
    budget: int
    steps: int = 0
    states: int = 0
    best_depth: int = -1
    best_path: list[_Event] = field(default_factory=list)
    best_node: _Node | None = None

    def __post_init__(self) -> None:
        # Calls each thread must finish: all but a pending one (always its last).
        self.required = tuple(sum(1 for c in calls if not c.pending) for calls in self.threads)
        self.calls = {c.index: c for calls in self.threads for c in calls}
        self.waiters_matter = self.capacity == 0

    # --- the model, counted ------------------------------------------------------------

    def spend(self) -> None:
        if self.steps >= self.budget:
            raise _OutOfBudget
        self.steps += 1

    def step(self, state: State, op: Op) -> tuple[State, Outcome]:
        self.spend()
        t = step(state, op)
        return t.state, t.outcome

    def can_complete(self, state: State, op: Op) -> bool:
        self.spend()
        return can_complete(state, op)

    # --- the search --------------------------------------------------------------------

    def run(self) -> bool:
        """True: a linearization exists; False: none does.  Raises _OutOfBudget."""
        n = len(self.threads)
        root = _Node((0,) * n, (-1,) * n, initial(self.capacity), ((0, FIRST_SENDER),))
        seen = {root}
        path: list[_Event] = []
        # Each frame: the node, its children (computed on entry), the next child to try,
        # and the length of `path` when the node was entered.
        stack: list[tuple[_Node, list[_Child], int, int]] = []
        node: _Node | None = root
        while True:
            if node is not None:
                self.states += 1
                self.note(node, path)
                if all(a >= r for a, r in zip(node.at, self.required, strict=True)):
                    return True
                stack.append((node, self.children(node), 0, len(path)))
                node = None
            if not stack:
                return False
            parent, children, i, mark = stack[-1]
            del path[mark:]
            if i == len(children):
                stack.pop()
                continue
            stack[-1] = (parent, children, i + 1, mark)
            events, child = children[i]
            if child in seen:
                continue
            seen.add(child)
            path.extend(events)
            node = child

    def note(self, node: _Node, path: list[_Event]) -> None:
        depth = sum(node.at)
        if depth > self.best_depth:
            self.best_depth = depth
            self.best_path = list(path)
            self.best_node = node

    def frontier(self, node: _Node) -> list[_Call]:
        """Each thread's next unfinished call."""
        return [calls[a] for calls, a in zip(self.threads, node.at, strict=True) if a < len(calls)]

    def children(self, node: _Node) -> list[_Child]:
        """Every next event, most promising first; or only one, if it is quiet (see above)."""
        state = node.state
        frontier = self.frontier(node)
        bound = min((c.op.end for c in frontier if not c.pending), default=_INF)
        frontier.sort(key=lambda c: c.rank)
        out: list[_Child] = []
        for call in frontier:
            t, i = call.thread, call.index
            ticket = node.tickets[t]
            if ticket >= 0:
                if call.pending:
                    continue  # never needs to complete (see the module docstring)
                if not self.can_complete(state, Resume(ticket)):
                    continue
                after, outcome = self.step(state, Resume(ticket))
                if outcome == call.expected:
                    self.add(out, [(i, _RESUME)], self.finish(node, t, after, node.handles))
                continue
            if call.op.invoke > bound:
                continue
            model_op = _model_op(call, node.handles)
            if model_op is None:
                continue  # its handle's clone has not taken effect yet
            if call.times_out:
                if self.can_complete(state, model_op):
                    continue
                after, outcome = self.step(state, model_op)
                assert isinstance(outcome, Blocked)
                after, outcome = self.step(after, Cancel(outcome.ticket))
                if outcome == call.expected:
                    return self.only([(i, _TIMEOUT)], self.finish(node, t, after, node.handles))
                continue
            after, outcome = self.step(state, model_op)
            if isinstance(outcome, Blocked):
                if not self.waiters_matter:
                    continue  # on a buffered channel it takes effect where it completes
                tickets = node.tickets[:t] + (outcome.ticket,) + node.tickets[t + 1 :]
                self.add(out, [(i, _PARK)], _Node(node.at, tickets, after, node.handles))
                continue
            if call.pending:
                if after != state:
                    self.add(out, [(i, _POINT)], self.finish(node, t, after, node.handles))
                continue
            handles = _matches(call, outcome, node.handles)
            if handles is None:
                continue
            nxt = self.finish(node, t, after, handles)
            if after == state:
                return self.only([(i, _POINT)], nxt)
            self.add(out, [(i, _POINT)], nxt)
        return out

    @staticmethod
    def finish(node: _Node, t: int, state: State, handles: _Handles) -> _Node:
        """``node`` with thread ``t``'s current call finished."""
        at = node.at[:t] + (node.at[t] + 1,) + node.at[t + 1 :]
        tickets = node.tickets if node.tickets[t] < 0 else node.tickets[:t] + (-1,) + node.tickets[t + 1 :]
        return _Node(at, tickets, state, handles)

    def only(self, events: list[_Event], nxt: _Node) -> list[_Child]:
        out: list[_Child] = []
        self.add(out, events, nxt)
        return out

    def add(self, out: list[_Child], events: list[_Event], nxt: _Node) -> None:
        try:
            out.append((events, self.settle(nxt, events)))
        except _Dead:
            pass

    def settle(self, node: _Node, events: list[_Event]) -> _Node:
        """Complete every parked call whose waiter has been resolved (raise _Dead if its
        resolution is not what the history says)."""
        for t, ticket in enumerate(node.tickets):
            if ticket < 0:
                continue
            resolution = node.state.waiter(ticket).resolution
            if resolution is None:
                continue
            call = self.threads[t][node.at[t]]
            if not call.pending and resolution != call.expected:
                raise _Dead
            after, _ = self.step(node.state, Resume(ticket))
            node = self.finish(node, t, after, node.handles)
            events.append((call.index, _RESUME))
        return node

    # --- evidence ----------------------------------------------------------------------

    def prefix(self) -> list[Operation]:
        """Operations of the longest linearizable prefix, in the order they finished."""
        return [self.calls[i].op for i, label in self.best_path if label != _PARK]

    def culprit(self) -> tuple[Operation, str] | None:
        """The unfinished call that must respond first after the longest prefix, and why
        it cannot take effect there."""
        node = self.best_node
        if node is None:
            return None
        waiting = [c for c in self.frontier(node) if not c.pending]
        if not waiting:
            return None
        call = min(waiting, key=lambda c: (c.op.end, c.op.invoke))
        return call.op, _explain(_with_real_messages(call), self.replay(node))

    def replay(self, node: _Node) -> _Node:
        """``node`` again, reached by the same events with the real messages in place of
        ``_NEVER_RECEIVED``, so that the evidence can name them."""
        state = initial(self.capacity)
        handles: _Handles = ((0, FIRST_SENDER),)
        tickets = [-1] * len(self.threads)
        for i, label in self.best_path:
            call = _with_real_messages(self.calls[i])
            ticket = tickets[call.thread]
            if label == _RESUME:
                state = step(state, Resume(ticket)).state
                tickets[call.thread] = -1
                continue
            model_op = _model_op(call, handles)
            assert model_op is not None
            t = step(state, model_op)
            state = t.state
            if label == _PARK:
                assert isinstance(t.outcome, Blocked)
                tickets[call.thread] = t.outcome.ticket
            elif label == _TIMEOUT:
                assert isinstance(t.outcome, Blocked)
                state = step(state, Cancel(t.outcome.ticket)).state
            elif isinstance(t.outcome, NewSender) and not call.pending:
                handles = _matches(call, t.outcome, handles) or handles
        assert tuple(tickets) == node.tickets
        return _Node(node.at, node.tickets, state, handles)


def check_linearizable(history: History, *, budget: int = DEFAULT_BUDGET) -> Finding:
    """Decide whether ``history`` is linearizable with respect to the model.

    OK: a linearization exists.  VIOLATION: none does; the evidence is the longest
    linearizable prefix found and the operation that could not follow it.  UNKNOWN: the
    search spent ``budget`` steps (questions to the model) without deciding.
    """
    if isinstance(budget, bool) or not isinstance(budget, int):
        raise TypeError(f"budget must be an int (a number of search steps), not {budget!r}")
    if budget < 1:
        raise ValueError(f"budget must be at least 1 search step, not {budget}")
    threads = _prepare(history.operations)
    stray = _stray_handle(threads)
    if stray is not None:
        op, handle = stray
        return Finding(
            CHECK,
            Verdict3.VIOLATION,
            f"not linearizable: operation {_describe(op)} uses sender handle {handle}, "
            f"which no clone in the history returned",
            operations=(op,),
        )
    search = _Search(threads, history.capacity, budget)
    total = len(history.operations)
    try:
        found = search.run()
    except _OutOfBudget:
        prefix = search.prefix()
        return Finding(
            CHECK,
            Verdict3.UNKNOWN,
            f"undecided: the search ran out of its budget of {_n(budget, 'step')} "
            f"({_n(search.steps, 'step')} spent, {_n(search.states, 'state')} explored) before finding a "
            f"linearization or ruling every order out; the longest linearizable prefix found "
            f"has {len(prefix)} of {total} operations.  A larger budget may decide it.",
            operations=tuple(prefix),
        )
    if found:
        return Finding(
            CHECK,
            Verdict3.OK,
            f"linearizable: a linearization of the {_n(total, 'operation')} was found in "
            f"{_n(search.steps, 'step')} ({_n(search.states, 'state')} explored)",
        )
    prefix = search.prefix()
    culprit = search.culprit()
    assert culprit is not None  # a search that failed left some operation unfinished
    op, why = culprit
    ids = ", ".join(str(o.id) for o in prefix) or "none"
    return Finding(
        CHECK,
        Verdict3.VIOLATION,
        f"not linearizable: operation {_describe(op)} cannot take effect after the longest "
        f"linearizable prefix found ({_n(len(prefix), 'operation')}, ids in order: {ids}): {why} "
        f"(every order ruled out in {_n(search.steps, 'step')})",
        operations=(*prefix, op),
    )


# --- preparing the history -------------------------------------------------------------------


def _prepare(operations: Iterable[Operation]) -> tuple[tuple[_Call, ...], ...]:
    """The calls of each thread, in program order."""
    ops = sorted(operations, key=lambda o: (o.invoke, o.id))
    ids = [o.id for o in ops]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise HistoryError(f"operation id {dup} appears more than once")
    # The hint: a successful send is tried in the order its value was received (FIFO makes
    # that the likely order), one never received as late as possible; everything else by
    # its response.  Only the order of trying depends on this, never the verdict.
    received: dict[object, float] = {}
    for op in ops:
        if op.kind.is_recv and op.status is Status.OK:
            received.setdefault(op.result, op.invoke)
    threads: dict[str, list[_Call]] = {}
    for index, op in enumerate(ops):
        _validate(op)
        mine = threads.setdefault(op.thread, [])
        if mine and mine[-1].op.end > op.invoke:
            raise HistoryError(
                f"operations {mine[-1].op.id} and {op.id} of thread {op.thread!r} overlap: "
                f"a thread makes one call at a time"
            )
        hint = op.end
        if op.kind.is_send and op.status is Status.OK:
            hint = received.get(op.value, _INF)
        pending = op.respond is None
        token: Token = NO_VALUE
        if op.kind.is_send:
            token = op.value if op.value in received else _NEVER_RECEIVED
        mine.append(
            _Call(
                index,
                list(threads).index(op.thread),
                op,
                pending,
                None if pending else _expected(op, token),
                op.kind in _TIMED and op.status is Status.TIMEOUT,
                token,
                (hint, op.end, index),
            )
        )
    return tuple(tuple(calls) for calls in threads.values())


def _validate(op: Operation) -> None:
    where = f"operation {op.id}"
    if (op.respond is None) != (op.status is Status.PENDING):
        raise HistoryError(f"{where}: 'respond' must be None exactly when the status is pending")
    if op.respond is not None and op.respond < op.invoke:
        raise HistoryError(f"{where}: responds ({op.respond}) before it was invoked ({op.invoke})")
    if op.kind.uses_handle and op.handle is None:
        raise HistoryError(f"{where}: a {op.kind.value} needs the sender handle it used")
    if op.kind.is_send and op.value is None:
        raise HistoryError(f"{where}: a {op.kind.value} needs the value it sent")
    if op.status is Status.OK and op.kind.is_recv and op.result is None:
        raise HistoryError(f"{where}: a receive that returned needs the message it got as 'result'")
    if op.status is Status.OK and op.kind is Kind.CLONE and not isinstance(op.result, int):
        raise HistoryError(f"{where}: a clone that returned needs the new handle's number as 'result'")


def _expected(op: Operation, token: Token) -> Outcome:
    """The model outcome a returned operation must have.  A status the model never gives
    for that kind of call simply never matches (the search then reports it)."""
    if op.status is Status.OK:
        if op.kind.is_recv:
            return Got(op.result)
        if op.kind is Kind.CLONE:
            return NewSender(-1)  # a wildcard: the number is checked through the mapping
        return Done()
    return Failed(_ERRORS[op.status], token)


def _stray_handle(threads: tuple[tuple[_Call, ...], ...]) -> tuple[Operation, int] | None:
    calls = [c for mine in threads for c in mine]
    known = {FIRST_SENDER} | {
        c.op.result for c in calls if c.op.kind is Kind.CLONE and c.op.status is Status.OK
    }
    for c in calls:
        if c.op.handle is not None and c.op.handle not in known:
            return c.op, c.op.handle
    return None


def _with_real_messages(call: _Call) -> _Call:
    if not call.op.kind.is_send:
        return call
    token = call.op.value
    expected = None if call.pending else _expected(call.op, token)
    return replace(call, token=token, expected=expected)


def _model_op(call: _Call, handles: _Handles) -> Op | None:
    """The model's op for a history operation, its handle translated; None if the
    handle has no model counterpart yet."""
    op, kind = call.op, call.op.kind
    if kind.uses_handle:
        model_handle = None
        for mine, theirs in handles:
            if mine == op.handle:
                model_handle = theirs
                break
        if model_handle is None:
            return None
        if kind is Kind.SEND:
            return Send(model_handle, call.token)
        if kind is Kind.SEND_TIMEOUT:
            return SendTimeout(model_handle, call.token)
        if kind is Kind.TRY_SEND:
            return TrySend(model_handle, call.token)
        if kind is Kind.CLONE:
            return Clone(model_handle)
        return CloseSender(model_handle)
    if kind is Kind.RECV:
        return Recv()
    if kind is Kind.RECV_TIMEOUT:
        return RecvTimeout()
    if kind is Kind.TRY_RECV:
        return TryRecv()
    return CloseReceiver()


def _matches(call: _Call, outcome: Outcome, handles: _Handles) -> _Handles | None:
    """The handle mapping after ``call`` took effect with ``outcome``, or None if that
    outcome is not the recorded one."""
    if isinstance(call.expected, NewSender):
        if not isinstance(outcome, NewSender):
            return None
        number = call.op.result
        assert isinstance(number, int)
        if any(mine == number for mine, _ in handles):
            return None  # the history gave out one handle number twice
        return tuple(sorted(handles + ((number, outcome.handle),)))
    return handles if outcome == call.expected else None


# --- evidence ------------------------------------------------------------------------------------


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _describe(op: Operation) -> str:
    args = []
    if op.handle is not None:
        args.append(f"handle {op.handle}")
    if op.kind.is_send:
        args.append(repr(op.value))
    result = op.status.value
    if op.result is not None:
        result += f" {op.result!r}"
    respond = "never" if op.respond is None else f"{op.respond:g}"
    return (
        f"#{op.id} {op.kind.value}({', '.join(args)}) on thread {op.thread!r} -> {result} "
        f"[{op.invoke:g}, {respond}]"
    )


def _show(outcome: Outcome) -> str:
    match outcome:
        case Done():
            return "ok"
        case Got(value):
            return f"ok {value!r}"
        case NewSender(handle):
            return f"a new sender (model handle {handle})"
        case Failed(error):
            return error.value
        case Blocked():
            return "blocked"
    return repr(outcome)  # pragma: no cover - Outcome is closed


def _explain(call: _Call, node: _Node) -> str:
    """What the model says about ``call`` at ``node`` (not counted against the budget)."""
    state = node.state
    ticket = node.tickets[call.thread]
    if ticket >= 0:
        if not can_complete(state, Resume(ticket)):
            return "it is parked there and nothing has resolved it or let it complete"
        outcome = step(state, Resume(ticket)).outcome
        if outcome != call.expected:
            return f"it is parked there, and resuming it gives {_show(outcome)}"
        return "resuming it there gives its outcome, but no order of the remaining operations follows"
    model_op = _model_op(call, node.handles)
    if model_op is None:
        return (
            f"its sender handle {call.op.handle} does not exist yet "
            f"(the clone that returned it has not taken effect)"
        )
    if call.times_out and can_complete(state, model_op):
        return f"it could not have timed out there: the model completes it with {_show(step(state, model_op).outcome)}"
    outcome = step(state, model_op).outcome
    if isinstance(outcome, Blocked):
        if call.times_out:
            return "it may time out there, but no order of the remaining operations follows"
        return "the model would block it there, and nothing completes it before it returned"
    if call.expected is not None and _matches(call, outcome, node.handles) is None:
        return f"the model gives {_show(outcome)} there"
    return "the model agrees with its outcome there, but no order of the remaining operations follows"
