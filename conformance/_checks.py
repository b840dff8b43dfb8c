"""Pattern checkers: properties a recorded history must have, each decided in O(n log n).

Each ``check_xxx(history)`` returns one :class:`Finding`: ``Verdict3.OK``, or
``Verdict3.VIOLATION`` with the evidence (the operations involved, a cycle of operation
ids, or a time window) and a one-sentence message.  When a history breaks a property in
several places, the finding reports one of them (the earliest the checker meets).

Vocabulary
----------
Messages are identified by their value, unique per send.  A receive *takes* a message when
it is a ``recv``, ``recv_timeout`` or ``try_recv`` with outcome ``ok`` and that ``result``.
Every operation spans ``[invoke, respond]`` (``respond`` is +infinity for a call that never
returned: :attr:`Operation.end`).  Operation *a* is *certainly before* *b* when
``a.respond < b.invoke``: whatever instant each call took effect at (its linearization
point, somewhere in its span), *a*'s came first.

Soundness
---------
Every check is *sound*: it reports a violation only if no linearization of the history is
allowed by the model in ``spec`` (rules 1-12, with the model's rule-12 choices: several
threads may receive; a closed handle wakes the calls blocked through it).  So a check that
says VIOLATION is always right, and a check that says OK does not prove the history
linearizable: that is the linearizability checker's job.  (``check_well_formed`` judges the
record itself: outcomes a call cannot have, handles nobody made.)  Where a property cannot
be decided from the history alone, the check is conservative and its docstring says so.
The checks assume nothing about who recorded the history: in particular a message is called
lost only where the history itself proves it (see :func:`check_integrity`).

Every check tolerates the others' violations (a value sent twice, a phantom): it judges
what it can and leaves the rest to the check that names it.
"""

from __future__ import annotations

import bisect
import functools
import gc
import itertools
import weakref
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import networkx as nx  # type: ignore[import-untyped, unused-ignore]

from conformance._evidence import Finding, Verdict3
from conformance.history import History, Kind, Message, Operation, Status
from spec import FIRST_SENDER, Rule

__all__ = [
    "PATTERN_CHECKS",
    "check_causality",
    "check_disconnected",
    "check_empty",
    "check_full",
    "check_integrity",
    "check_patterns",
    "check_producer_order",
    "check_realtime_fifo",
    "check_synchronisation",
    "check_well_formed",
]

_INF = float("inf")

_FAILED_SEND = frozenset({Status.DISCONNECTED, Status.FULL, Status.TIMEOUT, Status.HANDLE_CLOSED})
"""Send outcomes that hand the value back to the caller: such a value was never delivered."""

_MAY_HAVE_SENT = frozenset({Status.OK, Status.PENDING})
"""Send outcomes under which the value may be in the channel (a pending call may have taken effect)."""

_FOUND_EMPTY = frozenset({Status.EMPTY, Status.DISCONNECTED, Status.TIMEOUT})
"""Receive outcomes that show, at some instant of the call, an open receiver and nothing to take."""

_ALLOWED: dict[Kind, frozenset[Status]] = {
    Kind.SEND: frozenset({Status.OK, Status.DISCONNECTED, Status.HANDLE_CLOSED}),
    Kind.SEND_TIMEOUT: frozenset({Status.OK, Status.DISCONNECTED, Status.TIMEOUT, Status.HANDLE_CLOSED}),
    Kind.TRY_SEND: frozenset({Status.OK, Status.DISCONNECTED, Status.FULL, Status.HANDLE_CLOSED}),
    Kind.CLONE: frozenset({Status.OK, Status.HANDLE_CLOSED}),
    Kind.CLOSE_SENDER: frozenset({Status.OK}),
    Kind.RECV: frozenset({Status.OK, Status.DISCONNECTED, Status.HANDLE_CLOSED}),
    Kind.RECV_TIMEOUT: frozenset({Status.OK, Status.DISCONNECTED, Status.TIMEOUT, Status.HANDLE_CLOSED}),
    Kind.TRY_RECV: frozenset({Status.OK, Status.DISCONNECTED, Status.EMPTY, Status.HANDLE_CLOSED}),
    Kind.CLOSE_RECEIVER: frozenset({Status.OK}),
}
"""What each call may end with (besides ``pending``: any call may be cut off by the end of a run)."""


# --- the shared index: one pass over the history, reused by every check ---------------------


def _order(op: Operation) -> tuple[float, int]:
    return (op.invoke, op.id)


_SEND, _SEND_TIMEOUT, _TRY_SEND = Kind.SEND, Kind.SEND_TIMEOUT, Kind.TRY_SEND
_RECV, _RECV_TIMEOUT, _TRY_RECV = Kind.RECV, Kind.RECV_TIMEOUT, Kind.TRY_RECV
_OK, _PENDING = Status.OK, Status.PENDING


@dataclass
class _Index:
    """What the checks look up, built once per history.  Every list is in program order
    (by invocation, then id)."""

    capacity: int | None
    by_kind: dict[Kind, list[Operation]] = field(default_factory=lambda: {kind: [] for kind in Kind})
    sends: list[Operation] = field(default_factory=list)  # every send, whatever its outcome
    sends_of: dict[Message, list[Operation]] = field(default_factory=dict)
    receives: list[Operation] = field(default_factory=list)  # the takes: receives that returned ok
    takes_of: dict[Message, list[Operation]] = field(default_factory=dict)
    pending_receives: list[Operation] = field(default_factory=list)
    found_empty: list[Operation] = field(default_factory=list)  # receives that saw nothing to take
    messages: list[tuple[Operation, Operation | None]] = field(default_factory=list)
    """(send, first receive that took it, if any) for every value sent exactly once."""
    delivered: list[tuple[Operation, Operation]] = field(default_factory=list)
    """The messages that were taken, whose send may have taken effect (ok or pending)."""

    def first_pending_receive(self) -> float:
        """Earliest invocation of a receive that never returned: it may have taken a message
        nobody saw.  +infinity when there is none."""
        return min((op.invoke for op in self.pending_receives), default=_INF)


_last: tuple[weakref.ref[History], _Index] | None = None


def _index(history: History) -> _Index:
    """Build (or reuse, when the checks run one after another on one history) the index."""
    global _last
    cached = _last
    if cached is not None and cached[0]() is history:
        return cached[1]
    ix = _Index(history.capacity)
    by_kind, sends, sends_of, takes_of = ix.by_kind, ix.sends, ix.sends_of, ix.takes_of
    for op in sorted(history.operations, key=_order):
        kind = op.kind
        by_kind[kind].append(op)
        if kind is _SEND or kind is _SEND_TIMEOUT or kind is _TRY_SEND:
            sends.append(op)
            value = op.value
            if value is None:  # only a History built by hand can lack it
                continue
            if value in sends_of:
                sends_of[value].append(op)
            else:
                sends_of[value] = [op]
        elif kind is _RECV or kind is _RECV_TIMEOUT or kind is _TRY_RECV:
            status = op.status
            if status is _OK and op.result is not None:
                ix.receives.append(op)
                if op.result in takes_of:
                    takes_of[op.result].append(op)
                else:
                    takes_of[op.result] = [op]
            elif status is _PENDING:
                ix.pending_receives.append(op)
            elif status in _FOUND_EMPTY:
                ix.found_empty.append(op)
    for value, same in sends_of.items():
        if len(same) == 1:
            takes = takes_of.get(value)
            send = same[0]
            ix.messages.append((send, takes[0] if takes else None))
            if takes and send.status in _MAY_HAVE_SENT:
                ix.delivered.append((send, takes[0]))
    _last = (weakref.ref(history), ix)
    return ix


Check = Callable[[History], Finding]


def _quiet_gc(check: Check) -> Check:
    """Run ``check`` with the cyclic garbage collector paused.  The checks allocate millions
    of small tuples while a large history's operations are alive, and each full collection
    rescans all of them: three times slower at 10^6 operations.  The checks make no cycles."""

    @functools.wraps(check)
    def run(history: History) -> Finding:
        if not gc.isenabled():
            return check(history)
        gc.disable()
        try:
            return check(history)
        finally:
            gc.enable()

    return run


def _ok(check: str, rule: Rule | None, message: str = "") -> Finding:
    return Finding(check, Verdict3.OK, message, rule)


def _violation(check: str, rule: Rule | None, message: str, operations: Iterable[Operation] = (),
               *, cycle: Sequence[int] = (), window: tuple[float, float] | None = None) -> Finding:
    ops: list[Operation] = []
    for op in operations:  # keep the order given, drop repeats
        if all(op is not seen for seen in ops):
            ops.append(op)
    return Finding(check, Verdict3.VIOLATION, message, rule, tuple(ops), tuple(cycle), window)


def _capacity_rule(capacity: int | None) -> Rule:
    if capacity is None:
        return Rule.UNBOUNDED
    return Rule.RENDEZVOUS if capacity == 0 else Rule.BOUNDED


def _v(value: Message | None) -> str:
    return repr(value)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# --- 0. well-formed ------------------------------------------------------------------------


@_quiet_gc
def check_well_formed(history: History) -> Finding:
    """Each call ends with an outcome it can have, and names a sender handle that exists.

    Outcomes per call: sends ``ok``/``disconnected``/``handle_closed``, plus ``full`` for
    ``try_send`` and ``timeout`` for ``send_timeout``; receives ``ok``/``disconnected``/
    ``handle_closed``, plus ``empty`` for ``try_recv`` and ``timeout`` for ``recv_timeout``;
    ``clone`` ``ok``/``handle_closed``; closes ``ok`` (they are idempotent); any call may
    be ``pending``.  Handles: ``0`` and the ``result`` of each ``ok`` clone, all distinct.
    (A ``pending`` try_send or try_recv is accepted: the run may have ended during the call.)
    """
    name = "well_formed"
    ix = _index(history)
    odd: list[Operation] = []
    for kind, ops in ix.by_kind.items():
        allowed = (_PENDING, *_ALLOWED[kind])
        bad = next((op for op in ops if op.status not in allowed), None)
        if bad is not None:
            odd.append(bad)
    first = min(odd, key=_order, default=None)
    if first is not None:
        return _violation(name, None, f"operation {first.id} ({first.kind.value}) ended with "
                          f"{first.status.value}, an outcome that call cannot have", [first])
    made: dict[int, Operation] = {}
    for op in ix.by_kind[Kind.CLONE]:
        if op.status is _OK and isinstance(op.result, int):
            earlier = made.get(op.result)
            if op.result == FIRST_SENDER or earlier is not None:
                return _violation(name, Rule.CLONE, f"clone operation {op.id} returned handle {op.result}, "
                                  f"which already existed", [op] if earlier is None else [earlier, op])
            made[op.result] = op
    users = (*ix.sends, *ix.by_kind[Kind.CLONE], *ix.by_kind[Kind.CLOSE_SENDER])
    first = min((op for op in users if op.handle != FIRST_SENDER and op.handle not in made), key=_order, default=None)
    if first is not None:
        return _violation(name, None, f"operation {first.id} ({first.kind.value}) uses sender handle "
                          f"{first.handle}, which no clone returned", [first])
    return _ok(name, None)


# --- 1. integrity ----------------------------------------------------------------------------


@_quiet_gc
def check_integrity(history: History) -> Finding:
    """No phantom, no duplicate, no loss (rule 9, "exactly once").

    * phantom: a receive took a value that no send sent;
    * duplicate: a value sent by two sends, or taken by two receives;
    * returned to the caller: a send that failed (disconnected, full, timeout, handle_closed)
      handed its value back, so that value must not be received;
    * loss: a send returned ``ok`` but its value was never taken.  Not every such value is
      lost: it may still be buffered when the history ends, or have been discarded by a
      receiver close (rule 8).  So a value is judged lost only with proof it had left the
      channel unseen:

      - rendezvous: a send that returned ``ok`` was taken (rule 3), whatever else happened;
      - a receive that returned ``empty``/``disconnected``/``timeout`` began after the send
        returned: at that moment the receiver was open (a closed one says handle_closed),
        so the value had not been discarded, yet it was not there;
      - a value sent after this send returned was taken: FIFO puts ours ahead of it, and a
        receiver close discards both or neither.

      Conservative: a receive that never returned may have taken a value unseen, so values
      are reported lost only when there are more of them than such receives.

    The concurrent runner drains the channel with ``try_recv`` after every run, so that a
    value still buffered at the end shows up as a receive, and the final ``empty`` proves
    the loss of a value that did not.  For a history recorded without that drain, a value
    left buffered at the end is (rightly) not called lost.
    """
    name, rule = "integrity", Rule.VALUES
    ix = _index(history)
    for op in ix.receives:
        if op.result not in ix.sends_of:
            return _violation(name, rule, f"receive {op.id} returned {_v(op.result)}, which no operation sent "
                              "(a phantom message)", [op])
    for value, takes in ix.takes_of.items():
        if len(takes) > 1:
            sends = ix.sends_of.get(value, [])
            return _violation(name, rule, f"message {_v(value)} was received twice, by operations "
                              f"{takes[0].id} and {takes[1].id}", [*sends[:1], *takes[:2]])
    if len(ix.messages) < len(ix.sends_of):
        for value, sends in ix.sends_of.items():
            if len(sends) > 1:
                return _violation(name, rule, f"value {_v(value)} was sent by two operations, {sends[0].id} and "
                                  f"{sends[1].id}: each send must send its own value", sends[:2])
    for send, take in ix.messages:
        if take is not None and send.status in _FAILED_SEND:
            return _violation(name, rule, f"send {send.id} of {_v(send.value)} failed with {send.status.value} "
                              f"(the value went back to the caller), yet receive {take.id} returned it",
                              [send, take])
    return _check_loss(ix)


def _check_loss(ix: _Index) -> Finding:
    name, rule = "integrity", Rule.VALUES
    unseen = [send for send, take in ix.messages if take is None and send.status is _OK]
    if not unseen:
        return _ok(name, rule)
    last_empty = max(ix.found_empty, key=lambda o: o.invoke, default=None)
    later_taken = max(ix.delivered, key=lambda st: st[0].invoke, default=None)
    lost: list[tuple[Operation, list[Operation], str]] = []
    for send in unseen:
        assert send.respond is not None
        if ix.capacity == 0:
            lost.append((send, [], "a rendezvous send returns only once its value is taken"))
        elif last_empty is not None and send.respond < last_empty.invoke:
            lost.append((send, [last_empty], f"receive {last_empty.id}, begun after the send returned, found "
                         f"nothing to take ({last_empty.status.value})"))
        elif later_taken is not None and send.respond < later_taken[0].invoke:
            later, its_take = later_taken
            lost.append((send, [later, its_take], f"{_v(later.value)}, sent after it (operation {later.id}), "
                         f"was received (operation {its_take.id})"))
    if len(lost) <= len(ix.pending_receives):
        return _ok(name, rule)
    send, witnesses, why = lost[0]
    more = f" ({len(lost)} such messages, {len(ix.pending_receives)} receives that never returned)" \
        if ix.pending_receives else ""
    return _violation(name, rule, f"send {send.id} of {_v(send.value)} returned ok but the message was never "
                      f"received: {why}{more}", [send, *witnesses, *ix.pending_receives[:3]])


# --- 2. causality ----------------------------------------------------------------------------


@_quiet_gc
def check_causality(history: History) -> Finding:
    """A receive returns after the send of its message began (rule 9): it cannot return a
    value before anyone offered it.  Violation: ``recv.respond < send.invoke``.  O(n)."""
    name, rule = "causality", Rule.VALUES
    ix = _index(history)
    for op in ix.receives:
        assert op.result is not None and op.respond is not None
        sends = ix.sends_of.get(op.result)
        if sends and op.respond < sends[0].invoke:
            return _violation(name, rule, f"receive {op.id} returned {_v(op.result)} before send {sends[0].id} "
                              "of that value began", [sends[0], op], window=(op.respond, sends[0].invoke))
    return _ok(name, rule)


# --- 3. per-producer order -----------------------------------------------------------------


@_quiet_gc
def check_producer_order(history: History) -> Finding:
    """Two sends by one thread are received in program order (rule 10), as a cycle search.

    Whatever the channel does, the messages leave it one at a time: every message has an
    instant at which it is *taken*, inside the span of the receive that took it.  The graph
    has a node per successful receive (its operation id) and an edge ``x -> y`` for each
    fact "the take of x's message precedes the take of y's":

    * program order of a producer: for consecutive sends ``a, b`` of one thread whose
      messages were both received, ``recv(a) -> recv(b)`` (the channel is FIFO, and a's
      send took effect before b's began);
    * receive order: consecutive receives of one thread (program order), and, when several
      threads receive (rule 12 allows it), every pair ``x, y`` with ``x.respond <
      y.invoke``.  Those are encoded without the quadratic closure through a chain of
      time-point nodes ``("t", k)``, one per receive in order of response: ``x`` points to
      its own time point, the chain runs forward, and each receive ``y`` hangs below the
      last time point before ``y.invoke``; so ``x`` reaches ``y`` exactly when ``x`` is
      certainly before ``y``.

    A cycle is a set of "precedes" facts that no order of takes satisfies: some producer's
    messages were received out of its program order.  The cycle is returned as the receives'
    operation ids in order (time points dropped); the operations name the receives and
    their sends.  Sends whose message was not received are left out (judged by integrity).

    Scaling (10^6 operations): edges are consecutive pairs only, never the transitive
    closure.  And most histories need no graph at all: ordering receives by ``(invoke,
    id)`` and time points by response puts every receive-order edge forward, so only a
    producer edge pointing backward can close a cycle, and every node of a cycle lies
    between the two ends of some backward producer edge.  No backward edge: OK at once,
    O(n log n).  Otherwise the graph is built on the nodes under those spans only (small
    for a correct history: a backward edge spans only overlapping receives) and
    ``networkx.is_directed_acyclic_graph`` decides; ``find_cycle`` runs only on a violation.
    """
    name, rule = "producer_order", Rule.ORDER
    ix = _index(history)
    sent_by: dict[int, Operation] = {}  # receive id -> the send of its message
    per_producer: dict[str, list[Operation]] = {}
    for send, take in ix.delivered:
        per_producer.setdefault(send.thread, []).append(take)
        sent_by[take.id] = send
    fifo = [pair for takes in per_producer.values() for pair in itertools.pairwise(takes)]
    backward = [(x, y) for x, y in fifo if _order(y) < _order(x)]
    if not backward:
        return _ok(name, rule)
    edges: list[tuple[Hashable, Hashable]] = [(x.id, y.id) for x, y in fifo]
    per_consumer: dict[str, list[Operation]] = {}
    for op in ix.receives:
        per_consumer.setdefault(op.thread, []).append(op)
    for takes in per_consumer.values():
        edges.extend((x.id, y.id) for x, y in itertools.pairwise(takes))
    placed: list[tuple[tuple[float, int, int], Hashable]] = [((op.invoke, 0, op.id), op.id) for op in ix.receives]
    if len(per_consumer) > 1:
        by_response = sorted(ix.receives, key=lambda o: (o.end, o.id))
        responds = [op.end for op in by_response]
        edges.extend((op.id, ("t", k)) for k, op in enumerate(by_response))
        edges.extend((("t", k), ("t", k + 1)) for k in range(len(by_response) - 1))
        for op in ix.receives:
            before = bisect.bisect_left(responds, op.invoke)
            if before:
                edges.append((("t", before - 1), op.id))
        placed.extend(((when, 1, k), ("t", k)) for k, when in enumerate(responds))
    placed.sort()
    rank = {node: n for n, (_, node) in enumerate(placed)}
    spans = [0] * (len(placed) + 1)
    for x, y in backward:
        spans[rank[y.id]] += 1
        spans[rank[x.id] + 1] -= 1
    inside: set[Hashable] = set()
    depth = 0
    for n, (_, node) in enumerate(placed):
        depth += spans[n]
        if depth:
            inside.add(node)
    graph = nx.DiGraph()
    graph.add_edges_from((u, v) for u, v in edges if u in inside and v in inside)
    if nx.is_directed_acyclic_graph(graph):
        return _ok(name, rule)
    nodes: list[Hashable] = [u for u, _ in nx.find_cycle(graph)]
    cycle = [n for n in nodes if isinstance(n, int)]
    by_id = {op.id: op for op in ix.receives}
    receives = [by_id[n] for n in cycle]
    sends = [sent_by[r.id] for r in receives if r.id in sent_by]
    message = f"the receives {cycle} took their messages in an order no FIFO channel allows"
    for x, y in itertools.pairwise([*receives, receives[0]]):
        a, b = sent_by.get(x.id), sent_by.get(y.id)
        if a is not None and b is not None and a.thread == b.thread and _order(a) < _order(b):
            message = (f"thread {a.thread!r} sent {_v(a.value)} (operation {a.id}) before {_v(b.value)} "
                       f"(operation {b.id}), yet the receives {cycle} form a cycle that forces {_v(b.value)} "
                       f"to be taken first")
            break
    return _violation(name, rule, message, [*sends, *receives], cycle=cycle)


# --- 4. real-time FIFO across producers ---------------------------------------------------


@_quiet_gc
def check_realtime_fifo(history: History) -> Finding:
    """If send A returned before send B began, A is not received after B (rule 10, across
    producers).  Violation: both received, ``A.respond < B.invoke`` and ``recv(B).respond <
    recv(A).invoke``.

    O(n log n): the candidates for A (received, returned ``ok``) sorted by response, those
    for B (received) by invocation; sweeping B in order of invocation keeps every A
    certainly before it in a prefix, and only the prefix's latest-beginning receive matters.
    (Equal times count as overlapping, even within one thread: a tie that only program order
    breaks is left to ``check_producer_order`` or to the linearizability checker.)
    """
    name, rule = "realtime_fifo", Rule.ORDER
    ix = _index(history)
    delivered = ix.delivered
    firsts = sorted(((s, t) for s, t in delivered if s.status is Status.OK), key=lambda st: st[0].end)
    seconds = sorted(delivered, key=lambda st: _order(st[0]))
    best: tuple[Operation, Operation] | None = None
    k = 0
    for b, recv_b in seconds:
        while k < len(firsts) and firsts[k][0].end < b.invoke:
            if best is None or firsts[k][1].invoke > best[1].invoke:
                best = firsts[k]
            k += 1
        if best is not None and recv_b.end < best[1].invoke:
            a, recv_a = best
            return _violation(name, rule, f"send {a.id} of {_v(a.value)} returned before send {b.id} of "
                              f"{_v(b.value)} began, yet {_v(b.value)} was received (operation {recv_b.id}) "
                              f"before {_v(a.value)} (operation {recv_a.id})", [a, b, recv_a, recv_b])
    return _ok(name, rule)


# --- 5. Empty only when nothing was certainly buffered ----------------------------------------


@_quiet_gc
def check_empty(history: History) -> Finding:
    """``try_recv`` says Empty, and ``recv_timeout`` times out, only if the buffer may have
    been empty at some instant of the call (rules 1, 2).

    A message was *certainly buffered* over a call ``[i, r]`` if its send returned ``ok``
    before ``i`` and it cannot have been taken before ``r``: its receive began after ``r``,
    or nobody received it and no receive that never returned began before ``r``.  (A
    receiver close does not excuse it: after a close the call would say handle_closed.)
    O(n log n): sends by response, calls by invocation, one sweep.

    Not decided for rendezvous: there ``try_recv`` succeeds only if a sender is *already
    waiting*, and a send in progress over the whole call may not have begun to wait; the
    linearizability checker decides those.
    """
    name = "empty"
    rule = _capacity_rule(history.capacity)
    if history.capacity == 0:
        return _ok(name, rule, "not decided for rendezvous (left to the linearizability check)")
    ix = _index(history)
    calls = sorted((op for op in ix.found_empty
                    if (op.kind is Kind.TRY_RECV and op.status is Status.EMPTY)
                    or (op.kind is Kind.RECV_TIMEOUT and op.status is Status.TIMEOUT)), key=_order)
    if not calls:
        return _ok(name, rule)
    unseen_until = ix.first_pending_receive()
    buffered = []  # (send respond, earliest instant the message can have left, send, its receive)
    for send, take in ix.messages:
        if send.status is _OK:
            buffered.append((send.end, take.invoke if take else unseen_until, send, take))
    buffered.sort(key=lambda b: (b[0], b[2].id))
    best = None
    k = 0
    for call in calls:
        while k < len(buffered) and buffered[k][0] < call.invoke:
            if best is None or buffered[k][1] > best[1]:
                best = buffered[k]
            k += 1
        if best is not None and best[1] > call.end:
            _, _, send, take = best
            what = "returned Empty" if call.status is Status.EMPTY else "timed out"
            later = f"received only later (operation {take.id})" if take else "never received"
            return _violation(name, rule, f"{call.kind.value} {call.id} {what} while {_v(send.value)} was certainly "
                              f"buffered: its send {send.id} had returned and it was {later}",
                              [call, send, *([take] if take else [])], window=(call.invoke, call.end))
    return _ok(name, rule)


# --- 6. Full only when the buffer was certainly full -----------------------------------------


@_quiet_gc
def check_full(history: History) -> Finding:
    """``try_send`` says Full, and ``send_timeout`` times out, only if the buffer may have
    held k messages at some instant of the call (rule 2); never on an unbounded channel
    (rule 1).

    For a call ``[i, r]`` on capacity k, a message may have been buffered during it only if
    its send (ok, or never returned) began by ``r`` and it was not certainly taken before
    ``i``: its receive ended at or after ``i``, or nobody received it.  Fewer than k such
    messages: the buffer was never full, a violation.  The count over-approximates
    (conservative): a message never received may have been discarded long before.
    O(n log n) with two sorted lists and bisection.

    Not decided for rendezvous: there Full is right unless a receiver was already waiting,
    which the history cannot show; the linearizability checker decides those.
    """
    name = "full"
    capacity = history.capacity
    rule = _capacity_rule(capacity)
    if capacity == 0:
        return _ok(name, rule, "not decided for rendezvous (left to the linearizability check)")
    ix = _index(history)
    calls = [op for op in ix.sends if op.status is Status.FULL
             or (op.kind is _SEND_TIMEOUT and op.status is Status.TIMEOUT)]
    if not calls:
        return _ok(name, rule)
    if capacity is None:
        call = calls[0]
        what = "returned Full" if call.status is Status.FULL else "timed out"
        return _violation(name, rule, f"{call.kind.value} {call.id} {what} on an unbounded channel, "
                          "which never fills", [call], window=(call.invoke, call.end))
    starts: list[float] = []
    taken_by: list[float] = []  # when a received message had certainly left (causal ones only)
    for send in ix.sends:  # in order of invocation, so ``starts`` comes sorted
        if send.status is not _OK and send.status is not _PENDING:
            continue
        starts.append(send.invoke)
        takes = ix.takes_of.get(send.value) if send.value is not None else None
        gone = max(t.end for t in takes) if takes else _INF
        if send.invoke <= gone < _INF:  # a receive that ended before the send began (causality's
            taken_by.append(gone)      # case) would be subtracted for nothing: count it instead
    taken_by.sort()
    for call in calls:
        i, r = call.invoke, call.end
        possible = bisect.bisect_right(starts, r) - bisect.bisect_left(taken_by, i)
        if possible < capacity:
            inside = [s for s in ix.sends if s.status in _MAY_HAVE_SENT and s.invoke <= r
                      and (s.value not in ix.takes_of or max(t.end for t in ix.takes_of[s.value]) >= i)]
            what = "returned Full" if call.status is Status.FULL else "timed out"
            return _violation(name, rule, f"{call.kind.value} {call.id} {what}, but at most {possible} of the "
                              f"{capacity} slots can have been in use during the call", [call, *inside[:capacity]],
                              window=(i, call.end))
    return _ok(name, rule)


# --- 7. Disconnected only after every sender closed and the buffer drained -------------------


@_quiet_gc
def check_disconnected(history: History) -> Finding:
    """A receive says Disconnected only once every sender handle's close has begun and
    nothing is left to take (rule 5); a send says Disconnected only once a receiver close
    has begun (rule 6).

    For a receive ``[i, r]`` that returned Disconnected, a violation is any of:

    * a sender handle (``0``, or the result of an ``ok`` clone) with no ``close_sender``
      begun by ``r``.  An ``ok`` clone must have taken effect before the disconnection
      (cloning a closed handle fails), so its handle must be closed too.  A clone that never
      returned is no evidence (it may take effect later, and fail);
    * a message taken by a receive that began after ``r``: it was still in the channel
      (after the last close, no send can put one there; a rendezvous sender blocked through
      a closed handle is woken with handle_closed);
    * a message whose send returned ``ok`` before ``i`` that nobody received, when no receive
      that never returned began by ``r`` (a receiver close does not excuse it: after one the
      receive would say handle_closed).

    For a send ``[i, r]`` that returned Disconnected: no ``close_receiver`` began by ``r``.
    O(n).
    """
    name = "disconnected"
    ix = _index(history)
    receives = [op for op in ix.found_empty if op.status is Status.DISCONNECTED]
    closes_of: dict[int | None, list[Operation]] = {}
    for op in ix.by_kind[Kind.CLOSE_SENDER]:
        closes_of.setdefault(op.handle, []).append(op)
    handles: dict[int, Operation | None] = {FIRST_SENDER: None}
    handles.update((op.result, op) for op in ix.by_kind[Kind.CLONE] if op.status is _OK and isinstance(op.result, int))
    open_until, late_handle = -_INF, FIRST_SENDER
    for handle in handles:  # the handle whose close began last (+inf: never closed)
        closes = closes_of.get(handle)
        began = closes[0].invoke if closes else _INF
        if began > open_until:
            open_until, late_handle = began, handle
    last_take = ix.receives[-1] if ix.receives else None  # the one that began last
    first_unseen = min((s for s, take in ix.messages if take is None and s.status is _OK),
                       key=lambda o: o.end, default=None)
    unseen_until = ix.first_pending_receive()
    for op in receives:
        r = op.end
        if open_until > r:
            clone = handles[late_handle]
            closes = closes_of.get(late_handle)
            how = f"began closing only later (operation {closes[0].id})" if closes else "was never closed"
            return _violation(name, Rule.SENDER_CLOSE, f"{op.kind.value} {op.id} returned Disconnected, but sender "
                              f"handle {late_handle} {how}",
                              [op, *([clone] if clone else []), *(closes[:1] if closes else [])])
        if last_take is not None and last_take.invoke > r:
            send = ix.sends_of.get(last_take.result, [])[:1] if last_take.result is not None else []
            return _violation(name, Rule.SENDER_CLOSE, f"{op.kind.value} {op.id} returned Disconnected while "
                              f"{_v(last_take.result)} was still in the channel: receive {last_take.id} began later "
                              "and took it", [op, last_take, *send], window=(op.invoke, r))
        if first_unseen is not None and first_unseen.end < op.invoke and unseen_until > r:
            return _violation(name, Rule.SENDER_CLOSE, f"{op.kind.value} {op.id} returned Disconnected while "
                              f"{_v(first_unseen.value)} was still buffered: its send {first_unseen.id} had "
                              "returned and nobody received it", [op, first_unseen], window=(op.invoke, r))
    receiver_closes = ix.by_kind[Kind.CLOSE_RECEIVER]
    closed_from = receiver_closes[0].invoke if receiver_closes else _INF
    for op in ix.sends:
        if op.status is Status.DISCONNECTED and closed_from > op.end:
            return _violation(name, Rule.RECEIVER_CLOSE, f"{op.kind.value} {op.id} of {_v(op.value)} returned "
                              "Disconnected, but no receiver close had begun", [op, *receiver_closes[:1]],
                              window=(op.invoke, op.end))
    return _ok(name, Rule.SENDER_CLOSE)


# --- 8. synchronisation ------------------------------------------------------------------


@_quiet_gc
def check_synchronisation(history: History) -> Finding:
    """With capacity C, the k-th receive begins before the (k+C)-th send completes; for
    C = 0 each receive begins before its own send completes (rule 11).

    Take order is FIFO, so when the send of the j-th message taken completes, that message
    is in (C > 0: there was a free slot among C, so at most C - 1 of the j - 1 messages
    ahead of it were still buffered) or already out (C = 0), hence at least j - C messages
    have been taken, each by a receive that had begun.  With one receiving thread j is the
    position of the receive in that thread.  With several (rule 12 allows it) j is not known
    exactly; the check uses the lower bound 1 + max(receives certainly before this one, the
    receives before it in its own thread), so it is exact for one consumer and conservative
    otherwise.  Receives that never returned count as begun (they may have taken a message).
    Plus, for C = 0, the direct form: a receive must begin before its own send completes.
    O(n log n).  Not applicable to unbounded channels.
    """
    name, rule = "synchronisation", Rule.SYNCHRONISATION
    capacity = history.capacity
    if capacity is None:
        return _ok(name, rule, "not applicable to an unbounded channel")
    ix = _index(history)
    responds = sorted(op.end for op in ix.receives)
    begun = sorted(ix.receives + ix.pending_receives, key=_order)
    begun_at = [op.invoke for op in begun]
    position: dict[int, int] = {}
    per_thread: dict[str, int] = {}
    for op in ix.receives:
        position[op.id] = per_thread.get(op.thread, 0)
        per_thread[op.thread] = position[op.id] + 1
    for send, take in sorted(ix.delivered, key=lambda st: _order(st[1])):
        if send.status is not Status.OK:
            continue
        if capacity == 0 and take.invoke > send.end:
            return _violation(name, rule, f"rendezvous send {send.id} of {_v(send.value)} completed before its "
                              f"receive {take.id} began", [take, send], window=(send.end, take.invoke))
        ahead = max(bisect.bisect_left(responds, take.invoke), position[take.id])
        need = ahead + 1 - capacity
        if need >= 1 and bisect.bisect_right(begun_at, send.end) < need:
            late = begun[need - 1]
            exact = ahead == position[take.id]
            nth = _ordinal(ahead + 1) if exact else f"{_ordinal(ahead + 1)} (or later)"
            return _violation(name, rule, f"with capacity {capacity} the {_ordinal(need)} receive must begin before "
                              f"the send of the {nth} message received completes, but receive {late.id} began "
                              f"after send {send.id} of {_v(send.value)} completed",
                              [late, send, take], window=(send.end, late.invoke))
    return _ok(name, rule)


# --- all of them -------------------------------------------------------------------------


PATTERN_CHECKS: tuple[Check, ...] = (
    check_well_formed,
    check_integrity,
    check_causality,
    check_producer_order,
    check_realtime_fifo,
    check_empty,
    check_full,
    check_disconnected,
    check_synchronisation,
)
"""Every pattern check, in the order a reader should see their findings."""


def check_patterns(history: History) -> list[Finding]:
    """Run every pattern check on ``history``: one Finding each, OK or with its evidence."""
    return [check(history) for check in PATTERN_CHECKS]
