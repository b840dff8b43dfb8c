"""The sequential suite: one Hypothesis state machine, bound to any factory and capacity.

Model and implementation run in lockstep.  Each rule asks the model what an operation must
do, performs it on the implementation, and compares outcomes by *identity* of messages.
Blocking calls are made only when the model says they complete; where the model says they
would block, the call is made with a short timeout (and must time out), or started on a
*background* thread (at most one at a time) which a later operation must wake: that is how
rendezvous hand-offs, blocked senders woken by a receive or a close, and rule 12 are tested
on what is otherwise a single thread.

Every call runs under a deadline (see ``_calls``), so a hanging implementation fails with
a diagnosis.  A failure raises :class:`NonConformance`, whose text is a replayable script of
the steps so far; Hypothesis shrinks it to a minimal one.
"""

from __future__ import annotations

import gc
import math
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from conformance._calls import Background, Crashed, Hung, Observed, Returned, Shape, Worker
from conformance.replay import Boom, Payload, Unhashable
from spec import (
    NO_VALUE,
    Blocked,
    Cancel,
    ChannelError,
    Clone,
    CloseReceiver,
    CloseSender,
    Done,
    ErrorKind,
    Failed,
    Feature,
    Got,
    NewSender,
    Offers,
    Op,
    Outcome,
    Recv,
    RecvTimeout,
    Resume,
    Rule,
    Send,
    SendTimeout,
    State,
    Token,
    Transition,
    TryRecv,
    TrySend,
    can_complete,
    initial,
    offers_of,
    step,
)

__all__ = ["NonConformance", "sequential_machine"]

DEADLINE = 2.0
"""Seconds a call the model says completes may take before it counts as hung.  Generous
(correct calls take microseconds): it bounds a failing run, never slows a passing one."""

RECHECK_DEADLINE = 0.5
"""Once a run has seen a hang, the deadline used while Hypothesis shrinks it: an
implementation that hangs, hangs for 0.5 s too, and shrinking costs a quarter as much."""

SETTLE = 0.02
"""Seconds a background call is given to reach its wait before the next step."""

RACE_WINDOW = 2.0
"""How long a try_ call racing a background call that has not yet parked is retried."""

# Timeouts for calls the model says complete now: all must behave as "long enough".  Each
# exceeds DEADLINE, so a call that never completes shows as hung, not as timed out; inf and
# 1e10 (past threading.TIMEOUT_MAX) must wait forever rather than overflow.
COMPLETING_TIMEOUTS: tuple[float | None, ...] = (None, 30.0, math.inf, 1e10)
# Timeouts for calls the model says cannot complete: they must time out.
EXPIRING_TIMEOUTS: tuple[float, ...] = (0, 0.01)
BAD_TIMEOUTS: tuple[float, ...] = (-1, -0.5, math.nan)

VALUE_KINDS = ("payload", "none", "exception", "unhashable", "int", "str")
# At most this many calls to bring the channel to where a background call blocks (full for a
# send, empty for a receive) before starting it.
FILL_LIMIT = 6
# Sends in a row for the ``burst`` rule: small ones often; one past 1024, a common hidden limit
# of "unbounded" channels, now and then (one call, about a millisecond).
BURSTS: tuple[int, ...] = (3, 10, 3, 10, 40, 1100)


class NonConformance(AssertionError):
    """The implementation disagreed with the model.  ``str()`` is the full report."""

    def __init__(self, report: Report) -> None:
        super().__init__(report.render())
        self.report = report


@dataclass(frozen=True)
class Report:
    """Evidence of one disagreement, kept separate from its rendering."""

    target: str
    capacity: int | None
    rule: Rule
    call: str
    expected: str
    observed: str
    script: tuple[str, ...]
    detail: str = ""

    def render(self) -> str:
        lines = [
            f"{self.target} does not conform at capacity {self.capacity!r}.",
            f"Broken: {self.rule}",
            f"Call:     {self.call}",
            f"Expected: {self.expected}",
            f"Observed: {self.observed}",
        ]
        if self.detail:
            lines.append(self.detail.rstrip())
        lines.append("")
        lines.append("Replay (a self-contained script; the last line fails):")
        lines.extend("    " + s for s in self.script)
        return "\n".join(lines)


@dataclass
class _Pending:
    """The one background call, if any: its ticket in the model and why it parked."""

    ticket: int
    call: Background
    text: str
    rule: Rule


class _Script:
    """The steps so far, as Python against the implementation's own API."""

    def __init__(self, target: str, capacity: int | None, runtime: str = "threads") -> None:
        module, _, factory = target.partition(":")
        if module == "driver":  # a channel in another language, behind its driver
            imports = ["from conformance._driver import channel_for", f"channel = channel_for({target!r})"]
        elif module and factory and runtime != "threads":  # an async channel, driven through its event loop
            imports = ["from conformance._async import bridge", f"from {module} import {factory}",
                       f"channel = bridge({factory}, {runtime!r})"]
        elif module and factory:
            imports = [f"from {module} import {factory} as channel"]
        else:
            imports = [f"# target: {target}"]
        self.lines = [
            "from conformance.replay import Boom, Payload, Unhashable, background, expect, expect_value_error",
            "from spec import Disconnected, Empty, Full, HandleClosed, Timeout",
            *imports,
            "",
            f"tx0, rx = channel({capacity!r})",
        ]

    def add(self, line: str) -> None:
        self.lines.append(line)


def _timeout_text(timeout: float) -> str:
    return "timeout=float('inf')" if timeout == math.inf else f"timeout={timeout!r}"


class _Machine(RuleBasedStateMachine):
    """Generic lockstep machine; :func:`sequential_machine` binds factory and capacity."""

    factory: ClassVar[Callable[..., Any]]
    capacity: ClassVar[int | None]
    target: ClassVar[str]
    offers: ClassVar[Offers] = Offers()  # what is not offered is never called
    deadline: ClassVar[float] = DEADLINE  # lowered for the whole class once a hang is seen
    found_at: ClassVar[float | None] = None  # time.monotonic() of the first failure, before shrinking
    first_report: ClassVar[Report | None] = None  # the first failure's report, should shrinking go astray

    def __init__(self) -> None:
        super().__init__()
        self.worker = Worker(f"conformance-{self.target}")
        self.script = _Script(self.target, self.capacity, self.offers.runtime)
        self.model: State = initial(self.capacity)
        self.hung = False
        self.failed = False
        self.objects: dict[Token, object] = {}
        self.names: dict[Token, str] = {}
        self.refs: dict[Token, weakref.ref[Any]] = {}
        self.gone: set[Token] = set()  # delivered or discarded: the channel must not keep them
        self.bg: _Pending | None = None
        self.tokens = 0
        pair = self._call(lambda: self.factory(self.capacity), Shape.HANDLE, "channel(...)", self.deadline)
        if not isinstance(pair, Returned) or not isinstance(pair.obj, tuple) or len(pair.obj) != 2:
            self._fail(Rule.USAGE, f"channel({self.capacity!r})", "returns (sender, receiver)",
                       _describe_observed(pair, self.names, self.objects))
        assert isinstance(pair, Returned) and isinstance(pair.obj, tuple)
        self.senders: list[Any] = [pair.obj[0]]
        self.rx: Any = pair.obj[1]

    # -- plumbing --------------------------------------------------------------------

    def _call(self, fn: Callable[[], object], shape: Shape, text: str, deadline: float) -> Observed:
        observed = self.worker.call(fn, shape, deadline)
        if isinstance(observed, Hung):
            self._saw_hang()
        return observed

    def _saw_hang(self) -> None:
        self.hung = True
        type(self).deadline = RECHECK_DEADLINE

    def _fail(self, rule: Rule, call: str, expected: str, observed: str, detail: str = "",
              line: str | None = None) -> None:
        """Stop with a report.  ``line`` is the script line that checks the expectation
        (it raises when replayed against the implementation); default: the bare call."""
        self.failed = True
        self.script.add(f"{line or call}  # <- FAILS: observed {observed}")
        report = Report(self.target, self.capacity, rule, call, expected, observed, tuple(self.script.lines), detail)
        if type(self).found_at is None:
            type(self).found_at = time.monotonic()
            type(self).first_report = report
        raise NonConformance(report)

    def _new_value(self, kind: str, quiet: bool = False) -> int:
        self.tokens += 1
        token = self.tokens
        name = f"v{token}"
        obj: object
        make: str
        if kind == "payload":
            obj, make = Payload(token), f"Payload({token})"
        elif kind == "none":
            obj, make = None, "None"
        elif kind == "exception":
            obj, make = Boom(name), f"Boom({name!r})"
        elif kind == "unhashable":
            obj, make = Unhashable(token), f"Unhashable({token})"
        elif kind == "int":
            obj, make = token, repr(token)
        else:
            obj, make = f"message-{token}", repr(f"message-{token}")
        self.objects[token] = obj
        self.names[token] = name
        if kind in ("payload", "exception", "unhashable"):
            self.refs[token] = weakref.ref(obj)
        if not quiet:
            self.script.add(f"{name} = {make}")
        return token

    def _expect(self, t: Transition, observed: Observed, call: str) -> None:
        """Compare, then advance the model and record the step."""
        problem = _disagreement(t.outcome, observed, self.objects)
        if problem is not None:
            rule = Rule.VALUES if problem == "identity" else t.rule
            detail = observed.traceback if isinstance(observed, Crashed) else ""
            if isinstance(observed, Hung):
                detail = _hang_detail(self.model, t)
            self._fail(rule, call, _describe_expected(t.outcome, self.names),
                       _describe_observed(observed, self.names, self.objects), detail,
                       line=_expect_line(call, t.outcome, self.names))
        self._advance(t)
        self.script.add(_expect_line(call, t.outcome, self.names))

    def _advance(self, t: Transition) -> None:
        before = self.model
        self.model = t.state
        if isinstance(t.outcome, Got):
            self.gone.add(t.outcome.value)
        if before.receiver_open and not t.state.receiver_open:
            self.gone.update(before.buffer)

    def _run_simple(self, op: Op, fn: Callable[[], object], shape: Shape, call: str,
                    retry_if: ErrorKind | None = None) -> Observed:
        """A call that never blocks: run it, retrying a failure of kind ``retry_if`` for a
        short while when a background call may not have parked yet (it cannot have taken
        effect, so the retry is invisible to the model)."""
        t = step(self.model, op)
        observed = self._call(fn, shape, call, self.deadline)
        if retry_if is not None and self.bg is not None and not isinstance(t.outcome, Failed):
            give_up = time.monotonic() + RACE_WINDOW
            while (isinstance(observed, Failed) and observed.error is retry_if
                   and time.monotonic() < give_up):
                time.sleep(0.001)
                observed = self._call(fn, shape, call, self.deadline)
        self._expect(t, observed, call)
        return observed

    def _run_blocking(self, op: Op, timeout: float | None, fn: Callable[[float | None], object],
                      shape: Shape, call: Callable[[float | None], str], expiring: float) -> Observed:
        """A blocking call: with ``timeout`` if the model says it completes now, else with
        the short ``expiring`` timeout, after which the model cancels it (Timeout)."""
        if can_complete(self.model, op):
            t = step(self.model, op)
            text = call(timeout)
            observed = self._call(lambda: fn(timeout), shape, text, self.deadline)
        else:
            parked = step(self.model, _timed(op))
            assert isinstance(parked.outcome, Blocked)
            t = step(parked.state, Cancel(parked.outcome.ticket))
            text = call(expiring)
            observed = self._call(lambda: fn(expiring), shape, text, expiring + self.deadline)
            if not isinstance(observed, (Failed, Crashed, Hung)):
                # It completed where it must block: the rule that makes it block is the one broken
                # (a full bounded channel, no partner at a rendezvous), not the timeout's.
                t = Transition(t.state, t.outcome, parked.rule)
        self._expect(t, observed, text)
        return observed

    def _handle(self, h: int) -> int:
        return h % self.model.next_handle

    def _may_close(self, h: int | None) -> bool:
        """Whether closing sender ``h`` (None: the receiver) is something the implementation
        offers now: its receiver close, disconnection (closing the last open sender), and
        closing a handle while the background call is blocked through it."""
        if h is None:
            if not self.offers.has(Feature.CLOSE_RECEIVER):
                return False
        elif not self.offers.has(Feature.DISCONNECT) and self.model.senders == frozenset({h}):
            return False
        if self.bg is not None and not self.offers.has(Feature.CLOSE_WHILE_BLOCKED):
            waiter = next((w for w in self.model.waiters if w.ticket == self.bg.ticket), None)
            through = getattr(waiter.op, "handle", None) if waiter is not None and h is not None else None
            if waiter is not None and (through == h if h is not None else isinstance(waiter.op, (Recv, RecvTimeout))):
                return False
        return True

    # -- senders -----------------------------------------------------------------------

    @rule(h=st.integers(0, 7), kind=st.sampled_from(VALUE_KINDS),
          timeout=st.sampled_from(COMPLETING_TIMEOUTS), expiring=st.sampled_from(EXPIRING_TIMEOUTS))
    def send(self, h: int, kind: str, timeout: float | None, expiring: float) -> None:
        h = self._handle(h)
        if not self.offers.has(Feature.SEND_TIMEOUT):
            if not can_complete(self.model, Send(h, -1)):
                return  # it would block, and without a timeout nothing here could end it
            timeout = None
        token = self._new_value(kind)
        tx, v, name = self.senders[h], self.objects[token], self.names[token]
        op: Op = Send(h, token) if timeout is None else SendTimeout(h, token)
        self._run_blocking(
            op, timeout, lambda s: tx.send(v) if s is None else tx.send(v, timeout=s), Shape.UNIT,
            lambda s: f"tx{h}.send({name})" if s is None else f"tx{h}.send({name}, {_timeout_text(s)})",
            expiring)

    @rule(h=st.integers(0, 7), kind=st.sampled_from(VALUE_KINDS))
    def try_send(self, h: int, kind: str) -> None:
        if not self.offers.has(Feature.TRY_SEND):
            return
        h = self._handle(h)
        token = self._new_value(kind)
        tx, v = self.senders[h], self.objects[token]
        self._run_simple(TrySend(h, token), lambda: tx.try_send(v), Shape.UNIT,
                         f"tx{h}.try_send({self.names[token]})", retry_if=ErrorKind.FULL)

    @rule(h=st.integers(0, 7))
    def clone(self, h: int) -> None:
        if not self.offers.has(Feature.CLONE):
            return
        h = self._handle(h)
        tx = self.senders[h]
        t = step(self.model, Clone(h))
        new = len(self.senders)
        call = f"tx{new} = tx{h}.clone()" if isinstance(t.outcome, NewSender) else f"tx{h}.clone()"
        observed = self._call(tx.clone, Shape.HANDLE, call, self.deadline)
        if isinstance(t.outcome, NewSender) and isinstance(observed, Returned):
            if observed.obj is tx or not all(hasattr(observed.obj, m) for m in ("send", "try_send", "clone", "close")):
                self._fail(Rule.CLONE, call, "a new, independent sender handle", repr(observed.obj),
                           line=f"{call}; assert tx{new} is not tx{h}")
            self.senders.append(observed.obj)
            assert t.outcome.handle == new
            self._advance(t)
            self.script.add(call)
            return
        self._expect(t, observed, call)

    @rule(h=st.integers(0, 7), with_statement=st.booleans())
    def close_sender(self, h: int, with_statement: bool) -> None:
        h = self._handle(h)
        if not self._may_close(h):
            return
        tx = self.senders[h]
        if with_statement:
            self._run_simple(CloseSender(h), lambda: tx.__exit__(None, None, None), Shape.UNIT,
                             f"tx{h}.__exit__(None, None, None)")
        else:
            self._run_simple(CloseSender(h), tx.close, Shape.UNIT, f"tx{h}.close()")

    # -- the receiver --------------------------------------------------------------------

    @rule(timeout=st.sampled_from(COMPLETING_TIMEOUTS), expiring=st.sampled_from(EXPIRING_TIMEOUTS))
    def recv(self, timeout: float | None, expiring: float) -> None:
        if not self.offers.has(Feature.RECV_TIMEOUT):
            if not can_complete(self.model, Recv()):
                return
            timeout = None
        rx = self.rx
        op: Op = Recv() if timeout is None else RecvTimeout()
        self._run_blocking(
            op, timeout, lambda s: rx.recv() if s is None else rx.recv(timeout=s), Shape.VALUE,
            lambda s: "rx.recv()" if s is None else f"rx.recv({_timeout_text(s)})", expiring)

    @rule()
    def try_recv(self) -> None:
        if not self.offers.has(Feature.TRY_RECV):
            return
        self._run_simple(TryRecv(), self.rx.try_recv, Shape.VALUE, "rx.try_recv()",
                         retry_if=ErrorKind.EMPTY)

    @rule(with_statement=st.booleans(), now=st.integers(0, 3))
    def close_receiver(self, with_statement: bool, now: int = 0) -> None:
        """Acts one time in four: a closed receiver ends most of what is worth testing, so
        as an ordinary rule it would end most runs early.  Shrinking goes to ``now=0``."""
        if now or not self._may_close(None):
            return
        rx = self.rx
        if with_statement:
            self._run_simple(CloseReceiver(), lambda: rx.__exit__(None, None, None), Shape.UNIT,
                             "rx.__exit__(None, None, None)")
        else:
            self._run_simple(CloseReceiver(), rx.close, Shape.UNIT, "rx.close()")

    @precondition(lambda self: self.bg is None and self.offers.has(Feature.TRY_RECV))
    @rule()
    def try_iter(self) -> None:
        """``list(rx.try_iter())``: what is there now, then stop (on Empty or Disconnected)."""
        self._collect(TryRecv(), lambda: list(self.rx.try_iter()), "list(rx.try_iter())",
                      stop=(ErrorKind.EMPTY, ErrorKind.DISCONNECTED))

    @precondition(lambda self: self.bg is None and _iteration_ends(self.model))
    @rule()
    def iterate(self) -> None:
        """``list(rx)``: every message until disconnection (only when the model says it ends)."""
        self._collect(Recv(), lambda: list(self.rx), "list(rx)", stop=(ErrorKind.DISCONNECTED,))

    def _collect(self, op: Op, fn: Callable[[], object], call: str,
                 stop: tuple[ErrorKind, ...]) -> None:
        state, tokens, rule_ = self.model, list[Token](), Rule.SENDER_CLOSE
        while True:
            t = step(state, op)
            if not isinstance(t.outcome, Got):
                break
            tokens.append(t.outcome.value)
            state, rule_ = t.state, t.rule
        # Many receives in one call: the deadline grows with them, as for a burst.
        observed = self._call(fn, Shape.VALUE, call, self.deadline + len(tokens) * 2e-3)
        assert isinstance(t.outcome, Failed)
        if t.outcome.error not in stop:  # e.g. HandleClosed: the iteration itself raises
            self._expect(Transition(state, t.outcome, t.rule), observed, call)
            return
        expected = [self.objects[k] for k in tokens]
        ok = (isinstance(observed, Got) and isinstance(observed.value, list)
              and len(observed.value) == len(expected)
              and all(a is b for a, b in zip(observed.value, expected, strict=False)))
        want = "[" + ", ".join(self.names[k] for k in tokens) + "]"
        if len(tokens) > 12:  # the script needs every name; the report line does not
            shown = f"[{', '.join(self.names[k] for k in tokens[:5])}, ..., {self.names[tokens[-1]]}]"
        else:
            shown = want
        check = f"assert [id(x) for x in {call}] == [id(x) for x in {want}]"
        if not ok:
            self._fail(rule_, call, f"returns {shown} ({len(tokens)} values)",
                       _describe_observed(observed, self.names, self.objects), line=check)
        for k in tokens:
            self.gone.add(k)
        self.model = state
        self.script.add(check)

    # -- background calls: the other side of a rendezvous, or a blocked caller to wake -----

    @precondition(lambda self: self.bg is None)
    @rule(h=st.integers(0, 7), kind=st.sampled_from(VALUE_KINDS), timeout=st.sampled_from(COMPLETING_TIMEOUTS))
    def background_send(self, h: int, kind: str, timeout: float | None) -> None:
        h = self._handle(h)
        if not self.offers.has(Feature.SEND_TIMEOUT):
            timeout = None
        op: Op = Send(h, -1) if timeout is None else SendTimeout(h, -1)
        # Fill a bounded buffer first, so that this rule always has something to test: left
        # to chance, "full, then a blocked send, then what wakes it" is rare.
        for _ in range(FILL_LIMIT):
            if not (can_complete(self.model, op) and isinstance(step(self.model, op).outcome, Done)
                    and self.model.capacity and len(self.model.buffer) < self.model.capacity):
                break
            self.send(h, kind, None, EXPIRING_TIMEOUTS[0])
        if can_complete(self.model, op):
            return  # it would not block: nothing to test in the background
        token = self._new_value(kind)
        tx, v, name = self.senders[h], self.objects[token], self.names[token]
        op = Send(h, token) if timeout is None else SendTimeout(h, token)
        text = f"tx{h}.send({name})" if timeout is None else f"tx{h}.send({name}, {_timeout_text(timeout)})"
        self._start_background(op, (lambda: tx.send(v)) if timeout is None else (lambda: tx.send(v, timeout=timeout)),
                               Shape.UNIT, text)

    @precondition(lambda self: self.bg is None)
    @rule(timeout=st.sampled_from(COMPLETING_TIMEOUTS))
    def background_recv(self, timeout: float | None) -> None:
        if not self.offers.has(Feature.RECV_TIMEOUT):
            timeout = None
        op: Op = Recv() if timeout is None else RecvTimeout()
        if self.model.buffer and len(self.model.buffer) <= FILL_LIMIT:  # empty it first, as above
            if self.offers.has(Feature.TRY_RECV):
                self.try_iter()
            else:
                while self.model.buffer and can_complete(self.model, Recv()):
                    self.recv(None, EXPIRING_TIMEOUTS[0])
        if can_complete(self.model, op):
            return
        rx = self.rx
        text = "rx.recv()" if timeout is None else f"rx.recv({_timeout_text(timeout)})"
        self._start_background(op, (lambda: rx.recv()) if timeout is None else (lambda: rx.recv(timeout=timeout)),
                               Shape.VALUE, text)

    def _start_background(self, op: Op, fn: Callable[[], object], shape: Shape, text: str) -> None:
        t = step(self.model, op)
        assert isinstance(t.outcome, Blocked)
        call = Background(fn, shape, f"conformance-bg-{self.target}")
        call.thread.join(SETTLE)
        self.model = t.state
        self.bg = _Pending(t.outcome.ticket, call, text, t.rule)
        self.script.add(f"bg = background(lambda: {text})")
        if call.finished():
            self._premature()

    def _premature(self) -> None:
        assert self.bg is not None
        observed = self.bg.call.join(0)
        self._fail(self.bg.rule, f"bg  # {self.bg.text}",
                   "it to stay blocked: nothing has happened that could complete it",
                   _describe_observed(observed, self.names, self.objects), line="bg.expect_blocked()")

    @invariant()
    def background_settles(self) -> None:
        """After every step: a background call the model says is done must return, with the
        model's outcome; one the model says is still blocked must not have returned."""
        if self.bg is None or self.failed:
            return
        ticket = self.bg.ticket
        if not can_complete(self.model, Resume(ticket)):
            if self.bg.call.finished():
                self._premature()
            return
        t = step(self.model, Resume(ticket))
        observed = self.bg.call.join(self.deadline)
        if isinstance(observed, Hung):
            self._saw_hang()
        text = f"bg  # {self.bg.text}"
        self.bg = None
        problem = _disagreement(t.outcome, observed, self.objects)
        if problem is not None:
            self._fail(Rule.VALUES if problem == "identity" else t.rule, text,
                       _describe_expected(t.outcome, self.names),
                       _describe_observed(observed, self.names, self.objects),
                       _hang_detail(self.model, t) if isinstance(observed, Hung) else "",
                       line=_expect_line("bg", t.outcome, self.names, background=True))
        self._advance(t)
        self.script.add(_expect_line("bg", t.outcome, self.names, background=True))

    @rule(h=st.integers(0, 7), n=st.sampled_from(BURSTS))
    def burst(self, h: int, n: int) -> None:
        """Many sends in a row through one handle, as one call, without receiving: an
        "unbounded" channel with a hidden limit (1024 is a common one) or a bounded one that
        miscounts shows here, where single sends rarely get that far.  Only as many sends as
        the model says complete at once are made (none blocks)."""
        h = self._handle(h)
        state, expected = self.model, 0
        while expected < n and can_complete(state, Send(h, -1)):
            t = step(state, Send(h, -1))
            if not isinstance(t.outcome, Done):
                break
            state, expected = t.state, expected + 1
        if expected < 2:
            return  # nothing a single send would not test
        first = self.tokens + 1
        tokens = [self._new_value("int", quiet=True) for _ in range(expected)]
        tx, values = self.senders[h], [self.objects[k] for k in tokens]
        self.script.add(f"burst = list(range({first}, {first + expected}))  # v{first} ... v{first + expected - 1}")
        call = f"for v in burst: tx{h}.send(v)"
        # A burst is many calls in one: its deadline grows with it (a proxied send to a driver or an
        # event loop costs ~0.1 ms; a hang still shows within seconds).
        observed = self._call(lambda: _send_all(tx, values), Shape.VALUE, call, self.deadline + expected * 2e-3)
        count, failed = expected, observed
        if isinstance(observed, Got) and isinstance(observed.value, tuple):  # (how many, the exception)
            count, exc = observed.value
            failed = (Failed(ErrorKind.of(exc), exc.value) if isinstance(exc, ChannelError)
                      else Crashed(exc, "".join(traceback.format_exception(exc))))
        elif not (isinstance(observed, Got) and observed.value == expected):
            count = 0  # it hung (or crashed outside a send): blame the burst from its start
        for i, k in enumerate(tokens):
            t = step(self.model, Send(h, k))
            if i < count:
                self._advance(t)
                continue
            self._fail(t.rule, f"tx{h}.send(v{k})  # send {i + 1} of {expected} in a row",
                       _describe_expected(t.outcome, self.names),
                       _describe_observed(failed, self.names, self.objects),
                       _hang_detail(self.model, t) if isinstance(failed, Hung) else "",
                       line=f"for v in burst: expect(lambda: tx{h}.send(v), returns=None)")
        self.script.add(f"for v in burst: expect(lambda: tx{h}.send(v), returns=None)")

    @precondition(lambda self: self.bg is not None)
    @rule(with_statement=st.booleans())
    def close_blocked_handle(self, with_statement: bool) -> None:
        """Close the very handle the background call is blocked through (rule 12): picking
        it at random among the handles would make this situation rare."""
        assert self.bg is not None
        waiter = next((w for w in self.model.waiters if w.ticket == self.bg.ticket), None)
        if waiter is None:
            return
        handle = getattr(waiter.op, "handle", None)
        if handle is None:
            self.close_receiver(with_statement, 0)
        else:
            self.close_sender(handle, with_statement)

    # -- argument errors -------------------------------------------------------------------

    @rule(h=st.integers(0, 7), on_sender=st.booleans(), bad=st.sampled_from(BAD_TIMEOUTS))
    def bad_timeout(self, h: int, on_sender: bool, bad: float) -> None:
        """A negative or NaN timeout is a ValueError, raised before anything happens."""
        if not self.offers.has(Feature.SEND_TIMEOUT if on_sender else Feature.RECV_TIMEOUT):
            return
        if on_sender:
            h = self._handle(h)
            token = self._new_value("payload")
            tx, v = self.senders[h], self.objects[token]
            text = f"tx{h}.send({self.names[token]}, timeout={bad!r})"
            observed = self._call(lambda: tx.send(v, timeout=bad), Shape.UNIT, text, self.deadline)
        else:
            rx = self.rx
            text = f"rx.recv(timeout={bad!r})"
            observed = self._call(lambda: rx.recv(timeout=bad), Shape.VALUE, text, self.deadline)
        text = text.replace("nan", "float('nan')")
        if not (isinstance(observed, Crashed) and isinstance(observed.exc, ValueError)) and not (
            isinstance(observed, Failed) and observed.error is ErrorKind.HANDLE_CLOSED
        ):
            self._fail(Rule.USAGE, text, "raises ValueError (a bad timeout), changing nothing",
                       _describe_observed(observed, self.names, self.objects),
                       line=f"expect_value_error(lambda: {text})")
        self.script.add(f"expect_value_error(lambda: {text})")

    # -- the end -------------------------------------------------------------------------

    def teardown(self) -> None:
        try:
            if not self.failed and not self.hung:
                self._close_everything()
                self._check_no_references()
        finally:
            self.worker.stop()

    def _close_everything(self) -> None:
        """Close every sender, then drain by iteration (the blocking path of rule 5, which
        random steps reach rarely: all senders closed with messages still buffered), then
        close the receiver."""
        for h in range(self.model.next_handle):
            if h in self.model.senders:
                self.close_sender(h, False)
                self.background_settles()
        if self.bg is None and self.model.receiver_open and _iteration_ends(self.model):
            self.iterate()
        if self.model.receiver_open:
            self.close_receiver(False)
            self.background_settles()

    def _check_no_references(self) -> None:
        """Rule 9: once delivered or discarded, the channel holds no reference."""
        watched = [k for k in self.gone if k in self.refs]
        for k in watched:
            self.objects.pop(k, None)
        alive = [k for k in watched if self.refs[k]() is not None]
        if alive:
            gc.collect()
            alive = [k for k in alive if self.refs[k]() is not None]
        if alive:
            names = ", ".join(self.names[k] for k in sorted(alive, key=str))
            self.script.add("import gc, weakref")
            self.script.add(f"refs = [weakref.ref(x) for x in ({names},)]")
            self.script.add(f"del {names}")
            self.script.add("gc.collect()")
            self._fail(Rule.VALUES, "assert all(r() is None for r in refs)",
                       "no reference kept to a delivered or discarded message",
                       f"still referenced: {names}",
                       "(the receiver and senders are still alive; something in them keeps these)")


def _send_all(tx: Any, values: list[object]) -> int | tuple[int, BaseException]:
    """Send each value in turn: how many were sent, or (how many, the exception) on a failure."""
    for i, v in enumerate(values):
        try:
            tx.send(v)
        except Exception as exc:
            return i, exc
    return len(values)


def _timed(op: Op) -> Op:
    match op:
        case Send(h, v):
            return SendTimeout(h, v)
        case Recv():
            return RecvTimeout()
    return op


def _iteration_ends(state: State) -> bool:
    """Whether ``list(rx)`` would return (or raise) without blocking forever."""
    if state.receiver_open and state.senders:
        return False  # an open sender: once drained, the iteration waits (checked on every step: keep it O(1))
    for _ in range(len(state.buffer) + len(state.waiters) + 2):
        if not can_complete(state, Recv()):
            return False
        t = step(state, Recv())
        if not isinstance(t.outcome, Got):
            return True
        state = t.state
    return False


def _disagreement(expected: Outcome, observed: Observed, objects: dict[Token, object]) -> str | None:
    """None if the observation is what the model expects; otherwise a short reason
    ("identity" when only the object identity differs: rule 9)."""
    match expected, observed:
        case Done(), Done():
            return None
        case Got(token), Got(obj):
            if obj is objects.get(token):
                return None
            return "identity" if _looks_like(obj, objects.get(token)) else "outcome"
        case NewSender(), Returned():
            return None
        case Failed(kind, token), Failed(kind2, obj) if kind is kind2:
            if token is NO_VALUE or obj is objects.get(token):
                return None
            return "identity" if _looks_like(obj, objects.get(token)) else "outcome"
    return "outcome"


def _looks_like(a: object, b: object) -> bool:
    try:
        return type(a) is type(b) and repr(a) == repr(b)
    except Exception:
        return False


def _describe_expected(outcome: Outcome, names: dict[Token, str]) -> str:
    match outcome:
        case Done():
            return "returns normally"
        case Got(token):
            return f"returns {names.get(token, repr(token))}"
        case NewSender():
            return "returns a new sender"
        case Failed(kind, token):
            carried = "" if token is NO_VALUE else f" carrying .value {names.get(token, repr(token))}"
            return f"raises {kind.value}{carried}"
    return repr(outcome)


def _describe_observed(observed: Observed, names: dict[Token, str], objects: dict[Token, object]) -> str:
    def name(obj: object) -> str:
        for k, o in objects.items():
            if o is obj and not (obj is None or isinstance(obj, (int, str))):
                return f"{names[k]} ({obj!r})"
        return f"{obj!r}"

    match observed:
        case Done():
            return "returned normally"
        case Got(obj):
            return f"returned {name(obj)}"
        case Returned(obj):
            return f"returned {obj!r}"
        case Failed(kind, obj):
            carried = "" if obj is NO_VALUE else f" carrying .value {name(obj)}"
            return f"raised {kind.value}{carried}"
        case Crashed():
            return observed.describe()
        case Hung(seconds):
            return f"did not return within {seconds:g} s"
    return repr(observed)


def _expect_line(call: str, outcome: Outcome, names: dict[Token, str], background: bool = False) -> str:
    head = "bg.expect(" if background else f"expect(lambda: {call}"
    sep = "" if background else ", "
    match outcome:
        case Got(token):
            return f"{head}{sep}returns={names.get(token, repr(token))})"
        case Failed(kind, token):
            value = "" if token is NO_VALUE else f", value={names.get(token, repr(token))}"
            return f"{head}{sep}raises={kind.value}{value})"
    return f"{head})" if background else f"expect(lambda: {call})"


def _hang_detail(state: State, t: Transition) -> str:
    waiting = ", ".join(f"ticket {w.ticket}: {type(w.op).__name__}" for w in state.waiters) or "none"
    return (
        "The model says this call completes now; it is blocked (a lost wake-up or a deadlock).\n"
        f"Model state: {len(state.buffer)} buffered, open senders {sorted(state.senders)}, "
        f"receiver {'open' if state.receiver_open else 'closed'}, parked: {waiting}."
    )


def sequential_machine(factory: Callable[..., Any], capacity: int | None, target: str,
                       offers: Offers | None = None) -> type[_Machine]:
    """The state machine class for one factory and capacity.  ``target`` ("module:name")
    is used for the import line of replay scripts; ``offers`` (default: the factory's own
    declaration) says what may be called.  Run it with
    ``hypothesis.stateful.run_state_machine_as_test`` or use its ``TestCase``."""
    name = f"ChannelMachine[{target}, capacity={capacity!r}]"
    return type(name, (_Machine,), {"factory": staticmethod(factory), "capacity": capacity, "target": target,
                                    "offers": offers if offers is not None else offers_of(factory)})

