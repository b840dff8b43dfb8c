"""Concurrent runs on real threads, recorded as histories.

A :class:`Scenario` is a script per thread: producers (each sending unique values
``"p<i>-<n>"`` through its own cloned handle, cloning and closing as scripted), one
consumer, and optionally a *closer* that closes the original sender handle while the others
run (rule 12).  All threads start together at a barrier; before each operation a thread may
yield (``sleep(0)``) or sleep briefly, because a small switch interval alone barely
interleaves threads, while explicit yields do.

Every scenario terminates for a correct channel: producers close every handle they hold,
and the consumer ends by iterating until disconnection or by closing the receiver, which
wakes every blocked sender (or, for a channel offering neither, by receiving exactly what was
delivered: :data:`COUNTED`).  So a run that does not finish within its bound is a liveness
failure of the channel (a lost wake-up, a deadlock), reported with each blocked thread's
call and the history so far; its threads are abandoned as daemons.

Recording takes no lock: each thread appends to its own list, and operation ids are made
unique by thread (``thread_index * 1_000_000 + n``).  Times are ``time.monotonic_ns()``.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from types import FrameType
from typing import Any

import hypothesis

from conformance.history import History, Kind, Operation, Status
from spec import ChannelError, Disconnected, ErrorKind

__all__ = ["COUNTED", "ITERATE", "Crash", "Run", "Scenario", "Step", "run_scenario"]

_STATUS = {
    ErrorKind.DISCONNECTED: Status.DISCONNECTED,
    ErrorKind.EMPTY: Status.EMPTY,
    ErrorKind.FULL: Status.FULL,
    ErrorKind.TIMEOUT: Status.TIMEOUT,
    ErrorKind.HANDLE_CLOSED: Status.HANDLE_CLOSED,
}

SWITCH_INTERVAL = 1e-5
"""Seconds between forced thread switches during a run (CPython's default is 5 ms).  Explicit
pauses interleave the threads' *calls*; a tiny switch interval also interleaves them *inside*
the implementation's code, where lost wake-ups and check-then-act races live."""

LONG_PREEMPTION = 2e-4
"""Seconds of the occasional long pause at a preemption point."""
LONG_SHARE = 0.1
"""Which share of the preemption points pause that long (the rest just yield)."""

ITERATE = "iterate"  # consumer step: recv until Disconnected, each next() recorded as a recv
COUNTED = "counted"
"""Consumer ending for a channel that can neither disconnect nor close its receiver (OCaml's
``Event``): ``recv`` exactly as many messages as the producers delivered.  The consumer calls
``recv`` only when a message is certain to come (a send has returned and its message is
not yet received, or a plain ``send``, which cannot fail here, is in progress), so it never
waits on an empty channel; it stops when every producer has finished and all is received."""


@dataclass(frozen=True)
class Step:
    """One scripted call.  ``pause``: 0 none, 1 ``sleep(0)``, k > 1 ``sleep(k * 50 µs)``."""

    kind: Kind | str
    timeout: float | None = None
    pause: int = 0


@dataclass(frozen=True)
class Scenario:
    """What each thread does.  ``closer_pause`` (when not None) starts a thread that closes
    sender handle 0 after that pause; otherwise the main thread closes it after the start."""

    capacity: int | None
    producers: tuple[tuple[Step, ...], ...]
    consumer: tuple[Step, ...]
    closer_pause: int | None = None
    preempt: float = 0.0  # probability of a yield at each line of the code under test
    seed: int = 0
    close_original: bool = True  # False keeps handle 0 open: for a channel that never disconnects

    @property
    def size(self) -> int:
        return sum(len(p) for p in self.producers) + len(self.consumer)


@dataclass(frozen=True)
class Crash:
    """An exception outside the channel's outcome set, raised in a thread."""

    thread: str
    call: str
    error: str
    traceback: str


@dataclass
class Run:
    """What a run left: the history, crashes, and the threads still blocked at the bound."""

    history: History
    crashes: list[Crash] = field(default_factory=list)
    blocked: list[Operation] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def hung(self) -> bool:
        return bool(self.blocked)


class _Recorder:
    """One thread's log.  ``current`` is the call in progress, for the blocked report;
    ``crashed`` is shared by a run's recorders so the run can stop waiting at once."""

    def __init__(self, name: str, index: int, crashed: threading.Event) -> None:
        self.name = name
        self.crashed = crashed
        self.ops: list[Operation] = []
        self.current: Operation | None = None
        self.crashes: list[Crash] = []
        self._next_id = index * 1_000_000

    def call(self, kind: Kind, fn: Callable[[], Any], *, handle: int | None = None,
             value: str | None = None, text: str = "") -> tuple[Status, Any]:
        self.begin(kind, handle, value)
        try:
            return self.finish(Status.OK, fn())
        except ChannelError as exc:
            return self.finish(_STATUS[ErrorKind.of(exc)], None)
        except Exception as exc:
            raise self.crash(text or kind.value, exc) from exc

    # The pieces of a call, shared with the task recorder of conformance._async.

    def begin(self, kind: Kind, handle: int | None, value: str | None) -> None:
        self._next_id += 1
        self.current = Operation(self._next_id, self.name, kind, time.monotonic_ns(), None, Status.PENDING,
                                 handle, value)

    def finish(self, status: Status, result: Any) -> tuple[Status, Any]:
        respond = time.monotonic_ns()
        op = self.current
        assert op is not None
        stored = result if status is Status.OK and (op.kind.is_recv or op.kind is Kind.CLONE) else None
        self.ops.append(replace(op, respond=respond, status=status, result=stored))
        self.current = None
        return status, result

    def crash(self, text: str, exc: Exception) -> _Stop:
        """Record an exception outside the outcome set; the caller raises what this returns."""
        self.crashes.append(Crash(self.name, text, f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        self.current = None
        self.crashed.set()
        return _Stop()


class _Preempter:
    """Random preemption points inside the code under test: a line tracer that, with
    probability ``p`` at each line executed outside this harness and Hypothesis, yields the
    GIL.  Any thread switch it causes could happen in a real run; it only makes the rare ones
    (a lost wake-up between two lock regions, a check-then-act race) frequent enough to find.
    """

    # Not traced: this harness (the whole conformance package), Hypothesis, and threading
    # itself (its lock waits are where a switch happens anyway).
    _SKIP = (
        os.path.dirname(os.path.abspath(__file__)) + os.sep,
        os.path.dirname(os.path.abspath(hypothesis.__file__)) + os.sep,
        threading.__file__,
    )

    def __init__(self, p: float, seed: int) -> None:
        self.p = p
        self.random = random.Random(seed).random
        self._traced: dict[str, bool] = {}

    def _wanted(self, filename: str) -> bool:
        wanted = self._traced.get(filename)
        if wanted is None:
            wanted = not filename.startswith(self._SKIP) and not filename.startswith("<")
            self._traced[filename] = wanted
        return wanted

    def global_trace(self, frame: FrameType, event: str, arg: object) -> Any:
        return self.local_trace if self._wanted(frame.f_code.co_filename) else None

    def local_trace(self, frame: FrameType, event: str, arg: object) -> Any:
        if event == "line" and self.random() < self.p:
            # Mostly a bare yield; now and then a real pause, long enough for other threads to
            # complete whole calls inside this thread's window (a check-then-act race).
            time.sleep(LONG_PREEMPTION if self.random() < LONG_SHARE else 0)
        return self.local_trace


class _Stop(Exception):
    """Ends a thread's script after a crash (already recorded)."""


def _pause(level: int) -> None:
    if level == 1:
        time.sleep(0)
    elif level > 1:
        time.sleep(level * 50e-6)


def run_scenario(factory: Callable[..., Any], scenario: Scenario, *, bound: float = 5.0,
                 target: str = "", switch_interval: float = SWITCH_INTERVAL) -> Run:
    """Run ``scenario`` once on real threads; at most ``bound`` seconds for the threads."""
    tx0, rx = factory(scenario.capacity)
    crashed = threading.Event()
    main = _Recorder("main", 0, crashed)
    recorders = [main]
    def clone(rec: _Recorder, tx: Any, number: int) -> tuple[Any, int] | None:
        status, new = rec.call(Kind.CLONE, tx.clone, handle=number, text=f"tx{number}.clone()")
        if status is not Status.OK:
            return None
        # Provisional number: the clone op's own id, unique without coordination; the
        # history renumbers clones 1, 2, ... in the order they responded.
        provisional = rec.ops[-1].id
        rec.ops[-1] = replace(rec.ops[-1], result=provisional)
        return new, provisional

    # Each producer's first handle is cloned by main before the start, as in the seed program.
    starts = [clone(main, tx0, 0) for _ in scenario.producers]
    tally = _Tally(len(scenario.producers))
    barrier = threading.Barrier(len(scenario.producers) + 2 + (scenario.closer_pause is not None))  # + main
    threads: list[threading.Thread] = []

    def producer(index: int, script: tuple[Step, ...], rec: _Recorder) -> None:
        start = starts[index]
        handles = [start] if start is not None else []
        closed: set[int] = set()
        sent = 0
        barrier.wait()
        try:
            for step in script:
                _pause(step.pause)
                if not handles:
                    break
                tx, number = handles[-1]
                if step.kind in (Kind.SEND, Kind.SEND_TIMEOUT, Kind.TRY_SEND):
                    sent += 1
                    value = f"p{index}-{sent}"
                    kind = Kind(step.kind)
                    certain = kind is Kind.SEND and number not in closed  # a send on a closed handle fails
                    tally.sending(certain)
                    status, _ = rec.call(kind, _send_call(kind, tx, value, step.timeout), handle=number,
                                         value=value, text=f"tx{number}.{kind.value}({value!r})")
                    tally.sent(certain, status is Status.OK)
                elif step.kind is Kind.CLONE:
                    made = clone(rec, tx, number)
                    if made is not None:
                        handles.append(made)
                elif step.kind is Kind.CLOSE_SENDER:
                    closed.add(number)
                    rec.call(Kind.CLOSE_SENDER, tx.close, handle=number, text=f"tx{number}.close()")
            for tx, number in handles:  # every scenario ends with this producer's handles closed
                rec.call(Kind.CLOSE_SENDER, tx.close, handle=number, text=f"tx{number}.close()")
        except _Stop:
            return
        finally:
            tally.finished()

    def consumer(rec: _Recorder) -> None:
        barrier.wait()
        try:
            for step in scenario.consumer:
                _pause(step.pause)
                if step.kind == ITERATE:
                    _iterate(rec, rx)
                elif step.kind == COUNTED:
                    _counted(rec, rx, tally)
                elif step.kind is Kind.RECV:
                    tally.received(rec.call(Kind.RECV, rx.recv, text="rx.recv()")[0])
                elif step.kind is Kind.RECV_TIMEOUT:
                    tally.received(rec.call(Kind.RECV_TIMEOUT, partial(rx.recv, timeout=step.timeout),
                                            text=f"rx.recv(timeout={step.timeout})")[0])
                elif step.kind is Kind.TRY_RECV:
                    tally.received(rec.call(Kind.TRY_RECV, rx.try_recv, text="rx.try_recv()")[0])
                elif step.kind is Kind.CLOSE_RECEIVER:
                    rec.call(Kind.CLOSE_RECEIVER, rx.close, text="rx.close()")
        except _Stop:
            return

    def closer(rec: _Recorder) -> None:
        barrier.wait()
        try:
            _pause(scenario.closer_pause or 0)
            rec.call(Kind.CLOSE_SENDER, tx0.close, handle=0, text="tx0.close()")
        except _Stop:
            return

    preempter = _Preempter(scenario.preempt, scenario.seed) if scenario.preempt > 0 else None

    def traced(body: Callable[..., None]) -> Callable[..., None]:
        if preempter is None:
            return body

        def run(*args: Any) -> None:
            sys.settrace(preempter.global_trace)
            try:
                body(*args)
            finally:
                sys.settrace(None)

        return run

    producer, consumer, closer = traced(producer), traced(consumer), traced(closer)
    for i, script in enumerate(scenario.producers):
        rec = _Recorder(f"p{i}", i + 1, crashed)
        recorders.append(rec)
        threads.append(threading.Thread(target=producer, args=(i, script, rec), name=f"mpsc-p{i}", daemon=True))
    crec = _Recorder("consumer", len(scenario.producers) + 1, crashed)
    recorders.append(crec)
    threads.append(threading.Thread(target=consumer, args=(crec,), name="mpsc-consumer", daemon=True))
    if scenario.closer_pause is not None:
        krec = _Recorder("closer", len(scenario.producers) + 2, crashed)
        recorders.append(krec)
        threads.append(threading.Thread(target=closer, args=(krec,), name="mpsc-closer", daemon=True))

    began = time.monotonic()
    previous_interval = sys.getswitchinterval()
    sys.setswitchinterval(switch_interval)  # switch threads inside the implementation's code too
    try:
        for t in threads:
            t.start()
        try:
            barrier.wait(timeout=bound)
        except threading.BrokenBarrierError:
            pass
        if scenario.closer_pause is None and scenario.close_original:
            try:
                main.call(Kind.CLOSE_SENDER, tx0.close, handle=0, text="tx0.close()")
            except _Stop:
                pass
        deadline = began + bound
        for t in threads:  # a crash decides the run: stop waiting for threads it may have stranded
            while t.is_alive() and not crashed.is_set() and time.monotonic() < deadline:
                t.join(min(0.01, max(0.0, deadline - time.monotonic())))
    finally:
        sys.setswitchinterval(previous_interval)
    blocked = [] if crashed.is_set() else [r.current for r in recorders if r.current is not None]
    if not blocked and not crashed.is_set() and not (scenario.consumer and scenario.consumer[-1].kind == COUNTED):
        _drain(main, rx)
    ops = [op for r in recorders for op in r.ops] + blocked
    crashes = [c for r in recorders for c in r.crashes]
    history = History(scenario.capacity, tuple(_renumber_clones(ops)), target)
    return Run(history, crashes, blocked, time.monotonic() - began)


def _send_call(kind: Kind, tx: Any, value: str, timeout: float | None) -> Callable[[], Any]:
    if kind is Kind.SEND:
        return partial(tx.send, value)
    if kind is Kind.SEND_TIMEOUT:
        return partial(tx.send, value, timeout=timeout)
    return partial(tx.try_send, value)


def _iterate(rec: _Recorder, rx: Any) -> None:
    """``for v in rx``, each ``next()`` recorded as a recv (the last one: Disconnected)."""
    it = iter(rx)
    while True:
        def step() -> Any:
            try:
                return next(it)
            except StopIteration:
                raise Disconnected() from None

        status, _ = rec.call(Kind.RECV, step, text="next(iter(rx))")
        if status is not Status.OK:
            return


class _Tally:
    """What the :data:`COUNTED` ending needs to know: messages certainly on their way."""

    def __init__(self, producers: int) -> None:
        self._lock = threading.Lock()
        self.delivered = 0  # sends that returned OK
        self.plain_sends = 0  # plain sends in progress: each will deliver
        self.taken = 0
        self.running = producers

    def sending(self, certain: bool) -> None:
        """A send begins; ``certain``: it will deliver (a plain send on an open handle of a
        channel that neither disconnects nor closes its receiver)."""
        if certain:
            with self._lock:
                self.plain_sends += 1

    def sent(self, certain: bool, ok: bool) -> None:
        with self._lock:  # count the delivery before forgetting the send: never a dip
            self.delivered += ok
            self.plain_sends -= certain

    def received(self, status: Status) -> None:
        if status is Status.OK:
            self.taken += 1  # only the consumer thread writes this

    def finished(self) -> None:
        with self._lock:
            self.running -= 1

    def state(self) -> tuple[bool, bool]:
        """(a message is certainly coming, everything is over)."""
        with self._lock:
            coming = self.delivered + self.plain_sends > self.taken
            return coming, self.running == 0 and not coming


def _counted(rec: _Recorder, rx: Any, tally: _Tally) -> None:
    """The :data:`COUNTED` ending: receive until every delivered message is taken."""
    while True:
        coming, over = tally.state()
        if over:
            return
        if coming:
            status, _ = rec.call(Kind.RECV, rx.recv, text="rx.recv()")
            tally.received(status)
        else:
            time.sleep(0)


def _drain(rec: _Recorder, rx: Any) -> None:
    """After the run, take what is still buffered, so that no message counts as lost."""
    while True:
        try:
            status, _ = rec.call(Kind.TRY_RECV, rx.try_recv, text="rx.try_recv()  # drain")
        except _Stop:
            return
        if status is not Status.OK:
            return


def _renumber_clones(ops: list[Operation]) -> list[Operation]:
    """Clones were numbered provisionally by their op ids; number them 1, 2, ... in the
    order they responded, as a reader of the history expects."""
    clones = sorted((op for op in ops if op.kind is Kind.CLONE and op.result is not None),
                    key=lambda o: (o.end, o.id))
    mapping = {op.result: n for n, op in enumerate(clones, 1)}
    mapping[0] = 0
    return [
        replace(op, handle=None if op.handle is None else mapping.get(op.handle, op.handle),
                result=mapping.get(op.result, op.result) if op.kind is Kind.CLONE else op.result)
        for op in ops
    ]

