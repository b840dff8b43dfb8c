"""Cost and sensitivity of the pattern checkers (``conformance._checks``) on long histories.

Run from the repository root::

    python -m benchmarks.checkers              # 10^3 .. 10^6 operations, about 5 min on 2 cores
    python -m benchmarks.checkers --quick      # 10^3 .. 10^5, about 1.5 min
    python -m benchmarks.checkers --sizes 1000,20000 --capacity none --producers 8
    python -m benchmarks.checkers --profile 100000   # cProfile of check_patterns at 10^5
    python -m benchmarks.checkers --help

What is measured
----------------
1. **Synthetic valid histories.**  P producer threads (default 4) and one consumer on a
   channel of capacity C (default 64; ``--capacity none`` for unbounded) are simulated with
   a deque, in pure Python and O(n), never through ``spec.step``.  Every operation gets a
   linearization point ``lp`` on one increasing clock, the buffer changes at ``lp``, and
   the call's span is widened around it with random slack (``invoke <= lp <= respond``,
   2 % of the calls much wider) while each thread's own calls never overlap: a thread may
   start a call only after its previous one responded.  So the histories overlap the way
   real ones do and are linearizable by construction.  Phases alternate: producers outrun
   the consumer until the buffer has been found full a few times (``try_send`` ->
   ``full``, ``send_timeout`` -> ``timeout``, only when the simulated buffer is full at
   ``lp``), then the consumer outruns them until it has found it empty a few times
   (``try_recv`` -> ``empty``, ``recv_timeout`` -> ``timeout``, only when empty at
   ``lp``).  Successful calls mix ``send``/``try_send``/``send_timeout`` and ``recv``/
   ``try_recv``/``recv_timeout``.  A ``main`` thread clones one sender handle per producer
   and closes the first; at the end every producer closes its handle, the consumer drains
   the buffer, its last ``recv`` says ``disconnected``, and it closes the receiver.
   The generator is checked once, on small histories, before anything is timed: the
   JSON-lines round trip (which validates the format and the per-thread order), every
   pattern check OK, and the linearizability checker.
2. **Injected violations.**  Into a copy of the valid history, at a site in its middle,
   one violation at a time (the 10^6 history is reused as the base for each):
   phantom receive, duplicate receive, lost message, causality, per-producer order,
   real-time FIFO across producers, bogus Empty, bogus Full, premature Disconnected,
   synchronisation (n/a on an unbounded channel; real-time FIFO is n/a with one producer).  Each is FOUND if the check
   it targets says VIOLATION; the table lists every check that did.
3. **Time**: ``check_patterns`` and each single check on the valid history, the best of
   ``--repeats`` samples (default 5 up to 3*10^4 operations, 3 up to 3*10^5, 1 above),
   all of them interleaved round by round; calls under 20 ms are timed in a loop.  The
   best, not the median: the work is deterministic and load from elsewhere only adds.
   Each call gets a fresh ``History`` object wrapping the same operations, and the
   checks' cached index of the previous history is dropped before the clock starts, so
   the shared index the checks build once per history (``_checks._index``) is built in
   every single check's time, and once in ``check_patterns``'s; its own cost has a row
   (timed with the GC paused, as the checks run).  Baseline, in the same process: one
   linear pass over the operations building a dict value -> operation; the ``x lin``
   columns are check time / that time.  Scaling: time(10n) / time(n) per step.
4. **Processes.**  Each size is measured in fresh child processes, ``--processes`` of
   them (default 3 up to 10^5 operations, 2 above), and each time reported is the best
   over them: on a shared virtual machine one process can run at half speed from start
   to end (a busy host core), which a best-of within one process cannot see.  The first
   child also runs the injections.
5. **Peak memory**: each size's child process reads its own
   RSS high-water mark (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) once the history
   is generated and again once the checks have run (before any injection).  That peak
   includes the interpreter, the history and the generator's leftovers.  tracemalloc is
   not used: it slows every allocation several-fold, which would distort the timings.

The goals at the end are printed as MET or NOT MET.  A benchmark is not a test: nothing
here asserts or exits non-zero over a goal.
"""

from __future__ import annotations

import argparse
import bisect
import cProfile
import gc
import itertools
import json
import os
import platform
import pstats
import random
import resource
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from benchmarks.throughput import _table
from conformance import _checks
from conformance._checks import PATTERN_CHECKS, check_patterns
from conformance._evidence import Finding, Verdict3
from conformance.history import History, Kind, Operation, Status, dumps, loads

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_MAX = 100_000
CONSUMER, MAIN = "c", "main"
SCALING_BAR = 15.0  # time(10n) / time(n), per 10x step
BIG = 1_000_000
BIG_SECONDS, BIG_BYTES = 30.0, 3 * 10**9
MIN_SAMPLE = 0.02  # seconds: shorter calls are timed in a loop

_OK, _FULL, _EMPTY, _TIMEOUT, _DISC = Status.OK, Status.FULL, Status.EMPTY, Status.TIMEOUT, Status.DISCONNECTED


# ---------------------------------------------------------------------------------------
# 1. The generator
# ---------------------------------------------------------------------------------------


def generate(n: int, capacity: int | None, producers: int = 4, seed: int = 1, slack: int = 8) -> History:
    """A valid history of about ``n`` operations (exactly ``n``, or ``n + 1``).

    The buffer is a deque changed at each operation's linearization point ``lp`` (one
    clock, strictly increasing); the call spans ``[lp - a, lp + b]`` with random ``a, b``
    in ``[0, slack]`` (2 % of calls: ``[0, 25 * slack]``), clipped so that a thread's call
    begins only after its previous one responded.  A thread still busy at the chosen ``lp``
    simply does not act there.
    """
    if capacity is not None and capacity < 1:
        raise ValueError("the generator makes buffered histories only: capacity None or >= 1")
    rng = random.Random(seed)
    rand = rng.random
    threads = [f"p{i}" for i in range(producers)]
    free: dict[str, int] = {t: -1 for t in (MAIN, CONSUMER, *threads)}  # respond of the last call
    ops: list[Operation] = []
    buf: deque[int] = deque()
    clock = 0
    wide = slack * 25

    def add(thread: str, kind: Kind, lp: int, status: Status, handle: int | None = None,
            value: int | None = None, result: int | None = None) -> None:
        s = wide if rand() < 0.02 else slack
        invoke = lp - int(rand() * (s + 1))
        earliest = free[thread] + 1
        if invoke < earliest:
            invoke = earliest
        respond = lp + int(rand() * (s + 1))
        free[thread] = respond
        ops.append(Operation(len(ops), thread, kind, invoke, respond, status, handle, value, result))

    def after(thread: str) -> int:
        return max(clock, free[thread]) + 1

    handle_of: dict[str, int] = {}
    for number, t in enumerate(threads, 1):
        clock = after(MAIN)
        add(MAIN, Kind.CLONE, clock, _OK, handle=0, result=number)
        handle_of[t] = number
        free[t] = free[MAIN]  # the producer gets its handle once the clone has returned
    clock = after(MAIN)
    add(MAIN, Kind.CLOSE_SENDER, clock, _OK, handle=0)

    filling, quota, seen = True, 1 + int(rand() * 16), 0
    fill_to = 16 + int(rand() * 240)  # unbounded channel: how far this phase fills it
    p_consumer = (0.97, 0.08)  # (draining, filling): the busy thread skips its turn
    value = 0
    target = n - producers - 2  # the closes, the final Disconnected, the receiver close
    gc_was = gc.isenabled()
    gc.disable()  # millions of new objects, none cyclic: no need to rescan them all the time
    try:
        while len(ops) + len(buf) < target:
            clock += 1
            if rand() < p_consumer[filling]:
                if free[CONSUMER] >= clock:
                    continue
                if buf:
                    r = rand()
                    kind = Kind.RECV if r < 0.6 else Kind.TRY_RECV if r < 0.9 else Kind.RECV_TIMEOUT
                    add(CONSUMER, kind, clock, _OK, result=buf.popleft())
                    continue
                r = rand()
                if r < 0.7:
                    add(CONSUMER, Kind.TRY_RECV, clock, _EMPTY)
                elif r < 0.9:
                    add(CONSUMER, Kind.RECV_TIMEOUT, clock, _TIMEOUT)
                else:
                    continue  # a blocking recv waiting: it takes effect later
                if not filling:
                    seen += 1
                    if seen >= quota:
                        filling, quota, seen = True, 1 + int(rand() * 16), 0
                        fill_to = 16 + int(rand() * 240)
                continue
            t = threads[int(rand() * producers)]
            if free[t] >= clock:
                continue
            if capacity is None or len(buf) < capacity:
                r = rand()
                kind = Kind.SEND if r < 0.7 else Kind.TRY_SEND if r < 0.9 else Kind.SEND_TIMEOUT
                add(t, kind, clock, _OK, handle=handle_of[t], value=value)
                buf.append(value)
                value += 1
                if filling and capacity is None and len(buf) >= fill_to:
                    filling, quota, seen = False, 1 + int(rand() * 6), 0
                continue
            r = rand()
            if r < 0.6:
                add(t, Kind.TRY_SEND, clock, _FULL, handle=handle_of[t], value=value)
            elif r < 0.8:
                add(t, Kind.SEND_TIMEOUT, clock, _TIMEOUT, handle=handle_of[t], value=value)
            else:
                continue  # a blocking send waiting for room
            value += 1  # a failed send's value went back to its caller: never reused
            if filling:
                seen += 1
                if seen >= quota:
                    filling, quota, seen = False, 1 + int(rand() * 6), 0

        to_close = threads[:]
        rng.shuffle(to_close)
        while to_close or buf:
            clock += 1
            if buf and (not to_close or rand() < 0.5):
                if free[CONSUMER] < clock:
                    add(CONSUMER, Kind.RECV, clock, _OK, result=buf.popleft())
            elif free[to_close[0]] < clock:
                t = to_close.pop(0)
                add(t, Kind.CLOSE_SENDER, clock, _OK, handle=handle_of[t])
        clock = after(CONSUMER)
        add(CONSUMER, Kind.RECV, clock, _DISC)
        clock = after(CONSUMER)
        add(CONSUMER, Kind.CLOSE_RECEIVER, clock, _OK)
    finally:
        if gc_was:
            gc.enable()
    return History(capacity, tuple(ops), "benchmarks.checkers synthetic history")


def census(history: History) -> dict[str, int]:
    """How many operations of the kinds that matter to the checks."""
    out = {"ops": len(history.operations), "sent": 0, "full": 0, "empty": 0, "disconnected": 0}
    for op in history.operations:
        if op.kind.is_send and op.status is _OK:
            out["sent"] += 1
        elif op.status is _FULL or (op.kind is Kind.SEND_TIMEOUT and op.status is _TIMEOUT):
            out["full"] += 1
        elif op.status is _EMPTY or (op.kind is Kind.RECV_TIMEOUT and op.status is _TIMEOUT):
            out["empty"] += 1
        elif op.status is _DISC:
            out["disconnected"] += 1
    return out


# ---------------------------------------------------------------------------------------
# 2. Injected violations
# ---------------------------------------------------------------------------------------

PHANTOM, FRESH = -1, -2  # values no generated send uses (generated values count up from 0)


class Base:
    """What the injections look up in one valid generated history (ids = positions)."""

    def __init__(self, history: History) -> None:
        self.history = history
        self.ops = ops = history.operations
        assert all(op.id == i for i, op in enumerate(ops)), "expected a history from generate()"
        self.mid = len(ops) // 2
        self.next_id = len(ops)
        self.consumer = [i for i, op in enumerate(ops) if op.thread == CONSUMER]  # program order
        self.by_producer: dict[str, list[int]] = {}
        self.send_at: dict[Any, int] = {}
        self.take_at: dict[Any, int] = {}
        self.next_send: dict[Any, Any] = {}  # value -> the value the same producer sent ok next
        last: dict[str, Any] = {}
        for i, op in enumerate(ops):
            if op.kind.is_send or op.kind is Kind.CLOSE_SENDER:
                self.by_producer.setdefault(op.thread, []).append(i)
            if op.kind.is_send and op.status is _OK:
                self.send_at[op.value] = i
                if op.thread in last:
                    self.next_send[last[op.thread]] = op.value
                last[op.thread] = op.value
            elif op.kind.is_recv and op.status is _OK:
                self.take_at[op.result] = i

    def is_take(self, i: int) -> bool:
        op = self.ops[i]
        return op.kind.is_recv and op.status is _OK

    def send_of(self, take: int) -> Operation:
        return self.ops[self.send_at[self.ops[take].result]]

    def middle_consumer(self) -> list[int]:
        """The consumer's calls from the middle of the history on."""
        start = bisect.bisect_left(self.consumer, self.mid)
        return self.consumer[start:]

    def middle_first(self, calls: Sequence[int]) -> list[int]:
        """Positions in ``calls`` (sorted indices) from the middle of the history on, then
        from the start: sites in the middle first, and earlier ones when there are none."""
        start = bisect.bisect_left(calls, self.mid)
        return [*range(start, len(calls)), *range(start)]

    def gaps(self, calls: Sequence[int]) -> Iterator[tuple[int, int, float]]:
        """Consecutive calls ``x, y`` of one thread with idle time between them, and an
        instant strictly inside that idle time."""
        for x, y in itertools.pairwise(calls):
            a, b = self.ops[x].end, self.ops[y].invoke
            if b > a:
                yield x, y, (a + b) / 2

    def derive(self, changes: dict[int, Operation | None], extra: Sequence[Operation] = ()) -> History:
        """A copy with some operations replaced (or dropped, for ``None``) and some added."""
        ops: list[Operation | None] = list(self.ops)
        for i, op in changes.items():
            ops[i] = op
        kept = [op for op in ops if op is not None]
        return History(self.history.capacity, (*kept, *extra), "injected")

    def swap_results(self, x: int, y: int) -> History:
        a, b = self.ops[x], self.ops[y]
        return self.derive({x: replace(a, result=b.result), y: replace(b, result=a.result)})

    def instant(self, thread: str, kind: Kind, at: float, status: Status, **kw: Any) -> Operation:
        return Operation(self.next_id, thread, kind, at, at, status, **kw)


Injected = tuple[History, str]


def inject_phantom(b: Base) -> Injected | None:
    for _, _, t in b.gaps(b.middle_consumer()):
        op = b.instant(CONSUMER, Kind.TRY_RECV, t, _OK, result=PHANTOM)
        return b.derive({}, [op]), f"added try_recv {op.id} at t={t:.1f} returning {PHANTOM}, which nobody sent"
    return None


def inject_duplicate(b: Base) -> Injected | None:
    for x, _, t in b.gaps(b.middle_consumer()):
        if b.is_take(x):
            v = b.ops[x].result
            op = b.instant(CONSUMER, Kind.TRY_RECV, t, _OK, result=v)
            return b.derive({}, [op]), f"added try_recv {op.id} at t={t:.1f} returning {v}, already taken by {x}"
    return None


def inject_lost(b: Base) -> Injected | None:
    for x in b.middle_consumer():
        if b.is_take(x):
            return b.derive({x: None}), f"dropped receive {x} of {b.ops[x].result}"
    return None


def inject_causality(b: Base) -> Injected | None:
    takes = [i for i in b.consumer if b.is_take(i)]
    for k in b.middle_first(takes):
        x = takes[k]
        for y in takes[k + 1:k + 10_000]:  # a later take whose message was sent after x returned
            if b.send_of(y).invoke > b.ops[x].end:
                return b.swap_results(x, y), (f"swapped the results of receives {x} and {y}: {x} now returns "
                                              f"{b.ops[y].result}, sent only after it returned")
    return None


def inject_producer_order(b: Base) -> Injected | None:
    """Swap the messages of two consecutive sends of one producer.  Preferred: the second
    send begun before the first message's take returned (so that causality still holds)."""
    takes = [i for i in b.consumer if b.is_take(i)]
    for keep_causality in (True, False):
        for k in b.middle_first(takes):
            x = takes[k]
            a = b.ops[x].result
            nxt = b.next_send.get(a)
            if nxt is None or nxt not in b.take_at:
                continue
            if keep_causality and b.ops[b.send_at[nxt]].invoke > b.ops[x].end:
                continue
            y = b.take_at[nxt]
            return b.swap_results(x, y), (f"swapped the results of receives {x} and {y}: {a} and {nxt}, sent "
                                          f"in that order by {b.send_of(x).thread}, are now taken the other way")
    return None


def inject_realtime_fifo(b: Base) -> Injected | None:
    """Swap the messages of two consecutive takes whose sends, by two producers, are ordered
    in real time.  Preferred: consecutive calls of the consumer, and the second send begun
    before the first take returned (so that causality still holds)."""
    takes = [i for i in b.consumer if b.is_take(i)]
    after = {x: y for x, y in itertools.pairwise(b.consumer)}
    for level in range(3):
        for k in b.middle_first(takes[:-1]):
            x, y = takes[k], takes[k + 1]
            sa, sb = b.send_of(x), b.send_of(y)
            if sa.thread == sb.thread or not sa.end < sb.invoke:
                continue
            if level < 2 and sb.invoke > b.ops[x].end:
                continue
            if level < 1 and after[x] != y:
                continue
            return b.swap_results(x, y), (f"swapped the results of receives {x} and {y}: send {sa.id} ({sa.thread}) "
                                          f"returned before send {sb.id} ({sb.thread}) began, yet its message is now "
                                          "taken second")
    return None


def inject_empty(b: Base) -> Injected | None:
    for _, y, t in b.gaps(b.middle_consumer()):
        if b.is_take(y) and b.send_of(y).end < t:  # y's message was certainly buffered at t
            op = b.instant(CONSUMER, Kind.TRY_RECV, t, _EMPTY)
            return b.derive({}, [op]), (f"added try_recv {op.id} -> empty at t={t:.1f}, while {b.ops[y].result} "
                                        f"(sent by {b.send_of(y).id}, taken by {y}) was buffered")
    return None


def inject_full(b: Base) -> Injected | None:
    capacity = b.history.capacity
    starts = sorted(op.invoke for op in b.ops if op.kind.is_send and op.status is _OK)
    gone = sorted(op.end for op in b.ops if op.kind.is_recv and op.status is _OK)

    def in_use(t: float) -> int:  # messages that can have been buffered at t, at most
        return bisect.bisect_right(starts, t) - bisect.bisect_left(gone, t)

    sites = []
    for thread, calls in b.by_producer.items():
        start = bisect.bisect_left(calls, b.mid)
        for x, _, t in b.gaps(calls[start:]):
            if b.ops[x].kind is not Kind.CLOSE_SENDER:
                sites.append((t, x, thread))
    sites.sort()
    for bar in ((capacity or 0) // 2, (capacity or 1) - 1):
        for t, x, thread in sites:
            if capacity is None or in_use(t) <= bar:
                op = b.instant(thread, Kind.TRY_SEND, t, _FULL, handle=b.ops[x].handle, value=FRESH)
                at_most = "unbounded channel" if capacity is None else f"at most {in_use(t)} of {capacity} in use"
                return b.derive({}, [op]), f"added try_send {op.id} ({thread}) -> full at t={t:.1f} ({at_most})"
    return None


def inject_disconnected(b: Base) -> Injected | None:
    for _, _, t in b.gaps(b.middle_consumer()):
        op = b.instant(CONSUMER, Kind.TRY_RECV, t, _DISC)
        return b.derive({}, [op]), f"added try_recv {op.id} -> disconnected at t={t:.1f}, every sender still open"
    return None


def inject_synchronisation(b: Base) -> Injected | None:
    """Make a send complete before the receive that had to free its slot began.

    With capacity C, the j-th message taken (from 0) can enter the buffer only once the
    (j - C)-th take has happened, so its send completes after that receive began.  The
    injection shrinks the send's span (its response earlier) and, when the two spans do not
    allow that alone, the receive's span too (its invocation later) until the send's
    response comes first.  Sites exist where a send got its slot right after a take from a
    full buffer: the one after the middle, else the last one before it.
    """
    capacity = b.history.capacity
    if capacity is None:
        return None
    takes = [i for i in b.consumer if b.is_take(i)]
    position = {i: j for j, i in enumerate(takes)}
    for s in itertools.chain(range(b.mid, len(b.ops)), range(b.mid - 1, -1, -1)):  # nearest the middle
        send = b.ops[s]
        if not (send.kind.is_send and send.status is _OK) or send.value not in b.take_at:
            continue
        need = position[b.take_at[send.value]] + 1 - capacity  # receives that must have begun
        if need < 1:
            continue
        r = takes[need - 1]
        recv = b.ops[r]
        why = f"before receive {r} (the one that frees its slot among {capacity}) began"
        if send.invoke < recv.invoke:
            t = (send.invoke + recv.invoke) / 2
            return b.derive({s: replace(send, respond=t)}), f"send {s} of {send.value} now returns at t={t:.1f}, {why}"
        if send.invoke < recv.end:
            t = (send.invoke + recv.end) / 2
            return b.derive({s: replace(send, respond=send.invoke), r: replace(recv, invoke=t)}), (
                f"send {s} of {send.value} now returns at t={send.invoke:.1f} and receive {r} begins at "
                f"t={t:.1f}: the send returns {why}")
    return None


def _always(history: History) -> bool:
    return True


@dataclass(frozen=True)
class Injection:
    name: str
    check: str  # the check that must find it
    make: Callable[[Base], Injected | None]
    applies: Callable[[History], bool] = _always


INJECTIONS = (
    Injection("phantom receive", "integrity", inject_phantom),
    Injection("duplicate receive", "integrity", inject_duplicate),
    Injection("lost message", "integrity", inject_lost),
    Injection("causality", "causality", inject_causality),
    Injection("per-producer order", "producer_order", inject_producer_order),
    Injection("real-time FIFO", "realtime_fifo", inject_realtime_fifo,
              lambda h: len({op.thread for op in h.operations if op.kind.is_send}) > 1),
    Injection("bogus Empty", "empty", inject_empty),
    Injection("bogus Full", "full", inject_full),
    Injection("premature Disconnected", "disconnected", inject_disconnected),
    Injection("synchronisation", "synchronisation", inject_synchronisation, lambda h: h.capacity is not None),
)


def violations(findings: Sequence[Finding]) -> list[str]:
    return [f.check for f in findings if f.verdict is Verdict3.VIOLATION]


def run_injections(base: History) -> list[dict[str, Any]]:
    b = Base(base)
    out = []
    for inj in INJECTIONS:
        if not inj.applies(base):
            out.append({"name": inj.name, "result": "n/a", "fired": [], "what": "not applicable"})
            continue
        made = inj.make(b)
        if made is None:
            out.append({"name": inj.name, "result": "NO SITE", "fired": [], "what": "no site to inject it found"})
            continue
        history, what = made
        fired = violations(check_patterns(history))
        out.append({"name": inj.name, "result": "FOUND" if inj.check in fired else "MISSED",
                    "fired": fired, "what": what})
        del history
    return out


# ---------------------------------------------------------------------------------------
# 3. Measuring one size (in a child process)
# ---------------------------------------------------------------------------------------


def linear_pass(history: History) -> dict[Any, Operation]:
    """The baseline: one pass over the operations, a dict value -> operation."""
    by_value: dict[Any, Operation] = {}
    for op in history.operations:
        by_value[op.value if op.value is not None else op.result] = op
    return by_value


def _fresh(history: History) -> History:
    """The same operations in a new History object: the checks' cached index is not reused."""
    return History(history.capacity, history.operations, history.target)


def _flush_index(capacity: int | None) -> None:
    """Make the checks drop their cached index of the last history now, outside the timed
    region (run one check on an empty history), so that no timing pays for freeing it."""
    _checks.check_well_formed(History(capacity, ()))


def _quiet(fn: Callable[[History], object]) -> Callable[[History], object]:
    """``fn`` with the cyclic GC paused, as every check runs (see ``_checks._quiet_gc``)."""

    def run(history: History) -> object:
        was = gc.isenabled()
        gc.disable()
        try:
            return fn(history)
        finally:
            if was:
                gc.enable()

    return run


def _time_calls(fn: Callable[[History], object], history: History, number: int) -> float:
    """Seconds per call of ``fn``, over ``number`` calls, each on a fresh History object."""
    total = 0.0
    for _ in range(number):
        _flush_index(history.capacity)
        h = _fresh(history)
        t0 = time.perf_counter()
        fn(h)
        total += time.perf_counter() - t0
        del h
    return total / number


def best_times(fns: dict[str, Callable[[History], object]], history: History, repeats: int) -> dict[str, float]:
    """The best of ``repeats`` samples per function, the functions interleaved in rounds.

    A first round calibrates: calls shorter than ``MIN_SAMPLE`` are timed in a loop of as many
    as make up ``MIN_SAMPLE``, so the small sizes are not clock noise; a call that long counts
    as one sample already.  Then every round samples every function once, back to back, so
    that a burst of load from elsewhere on the machine hits them alike; and the minimum is
    kept, the run least disturbed (the work itself is deterministic, noise only adds).
    """
    samples: dict[str, list[float]] = {}
    number: dict[str, int] = {}
    for name, fn in fns.items():
        first = _time_calls(fn, history, 1)
        number[name] = max(1, min(10_000, round(MIN_SAMPLE / max(first, 1e-9))))
        samples[name] = [first] if number[name] == 1 else []
    for _ in range(repeats):
        for name, fn in fns.items():
            if len(samples[name]) < repeats:
                samples[name].append(_time_calls(fn, history, number[name]))
    return {name: min(values) for name, values in samples.items()}


def _maxrss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # Linux reports KiB, macOS bytes


def default_repeats(n: int) -> int:
    return 5 if n <= 30_000 else 3 if n <= 300_000 else 1


def measure(n: int, capacity: int | None, producers: int, seed: int, repeats: int,
            inject: bool = True) -> dict[str, Any]:
    """Everything about one size, as JSON-able data."""
    t0 = time.perf_counter()
    history = generate(n, capacity, producers, seed)
    generated = time.perf_counter() - t0
    rss_generated = _maxrss_bytes()
    fns: dict[str, Callable[[History], object]] = {"linear pass": linear_pass}
    index = getattr(_checks, "_index", None)  # private: timed only while it exists
    if callable(index):
        fns["(shared index)"] = _quiet(index)
    fns.update((check.__name__, check) for check in PATTERN_CHECKS)
    fns["check_patterns"] = check_patterns
    times = best_times(fns, history, repeats)
    findings = check_patterns(_fresh(history))
    rss_checked = _maxrss_bytes()
    injections = run_injections(history) if inject else []
    return {
        "n": n, "census": census(history), "generate_s": generated, "repeats": repeats, "times": times,
        "valid": [(f.check, f.verdict.value, f.message) for f in findings],
        "rss_generated": rss_generated, "rss_checked": rss_checked, "injections": injections,
    }


def run_child(args: argparse.Namespace, n: int, inject: bool) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.checkers", "--worker", "--sizes", str(n),
           "--capacity", cap_label(args.capacity), "--producers", str(args.producers),
           "--seed", str(args.seed)]
    if not inject:
        cmd.append("--no-inject")
    if args.repeats is not None:
        cmd += ["--repeats", str(args.repeats)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    child = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, env=env)
    if child.returncode != 0:
        raise RuntimeError(f"child for n={n} failed ({child.returncode}):\n{child.stderr}")
    return json.loads(child.stdout)  # type: ignore[no-any-return]


def default_processes(n: int) -> int:
    return 3 if n <= QUICK_MAX else 2


def measure_size(args: argparse.Namespace, n: int) -> dict[str, Any]:
    """One size, in ``--processes`` fresh children (the first also injects): each time is
    the best over the children, the memory the highest."""
    runs = [run_child(args, n, inject=k == 0) for k in range(args.processes or default_processes(n))]
    merged = runs[0]
    merged["processes"] = len(runs)
    merged["times"] = {name: min(r["times"][name] for r in runs) for name in merged["times"]}
    for key in ("rss_generated", "rss_checked"):
        merged[key] = max(r[key] for r in runs)
    return merged


# ---------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------


def cap_label(capacity: int | None) -> str:
    return "None" if capacity is None else str(capacity)


def size_label(n: int) -> str:
    if n >= 1000 and str(n).rstrip("0") == "1":
        return f"10^{len(str(n)) - 1}"
    return f"{n:,}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}" if seconds < 10 else f"{seconds * 1000:,.0f}"


def _mb(b: float) -> str:
    return f"{b / 2**20:,.0f} MiB"


@dataclass
class Goal:
    text: str
    verdict: str = "NOT MEASURED"
    details: list[str] = field(default_factory=list)

    def report(self, out: TextIO) -> None:
        print(f"  [{self.verdict}] {self.text}", file=out)
        for line in self.details:
            print(f"      {line}", file=out)


def self_check(args: argparse.Namespace, out: TextIO) -> bool:
    """The generator, judged on small histories before anything is timed."""
    print("\n0. Generator self-check (small histories, same capacity and producers)", file=out)
    ok = True
    small = generate(2_000, args.capacity, args.producers, args.seed + 1000)
    try:
        loads(dumps(small))
        print("   2,000 ops: JSON-lines round trip (format, per-thread order) ... ok", file=out)
    except ValueError as exc:
        ok = False
        print(f"   2,000 ops: JSON-lines round trip FAILED: {exc}", file=out)
    bad = [f for f in check_patterns(small) if not f.ok]
    ok = ok and not bad
    print(f"   2,000 ops: every pattern check OK ... {'ok' if not bad else 'FAILED'}", file=out)
    for f in bad:
        print(f"      {f.check}: {f.message}", file=out)
    try:
        from conformance._linearizability import check_linearizable
    except ImportError:
        print("   linearizability checker not importable: skipped", file=out)
        return ok
    for seed in range(3):
        h = generate(300, args.capacity, args.producers, args.seed + 2000 + seed)
        t0 = time.perf_counter()
        f = check_linearizable(h)
        verdict = f.verdict.value.upper()
        ok = ok and f.verdict is not Verdict3.VIOLATION
        print(f"   {len(h.operations)} ops, seed {args.seed + 2000 + seed}: linearizability {verdict} "
              f"({time.perf_counter() - t0:.2f} s){'' if f.ok else ': ' + f.message[:200]}", file=out)
    return ok


def report(out: TextIO, args: argparse.Namespace, results: list[dict[str, Any]]) -> list[Goal]:
    sizes = [r["n"] for r in results]
    labels = [size_label(n) for n in sizes]

    print("\n1. Valid histories (generated in the child process; every check must say OK)", file=out)
    header = ["size", "ops", "sent ok", "full/timeout", "empty/timeout", "generate s", "samples x procs", "all checks"]
    rows = []
    for r, label in zip(results, labels, strict=True):
        c = r["census"]
        bad = [check for check, verdict, _ in r["valid"] if verdict != "ok"]
        verdict = "OK" if not bad else "FALSE ALARM: " + ",".join(bad)
        rows.append([label, f"{c['ops']:,}", f"{c['sent']:,}", f"{c['full']:,}", f"{c['empty']:,}",
                     f"{r['generate_s']:.2f}", f"{r['repeats']} x {r['processes']}", verdict])
    _table(out, header, rows, text_cols=1)
    for r in results:
        for check, verdict, message in r["valid"]:
            if verdict != "ok":
                print(f"   n={r['n']:,} {check}: {message}", file=out)

    names = list(results[0]["times"])
    print("\n2. Time on the valid history (ms, best of the repeats, interleaved; x lin = time / linear pass)",
          file=out)
    print("   Every single check's time includes building the shared index (its own row); "
          "check_patterns builds it once.", file=out)
    header = ["check"]
    for label in labels:
        header += [label, "x lin"]
    rows = []
    for name in names:
        row = [name]
        for r in results:
            t, lin = r["times"][name], r["times"]["linear pass"]
            row += [_ms(t), f"{t / lin:,.1f}"]
        rows.append(row)
    _table(out, header, rows, text_cols=1)

    print("\n3. Peak memory of each size's child processes (RSS high-water mark, getrusage ru_maxrss; the highest)",
          file=out)
    header = ["size", "ops", "after generating", "after checking", "checks added", "bytes/op (peak)"]
    rows = []
    for r, label in zip(results, labels, strict=True):
        ops = r["census"]["ops"]
        rows.append([label, f"{ops:,}", _mb(r["rss_generated"]), _mb(r["rss_checked"]),
                     _mb(r["rss_checked"] - r["rss_generated"]), f"{r['rss_checked'] / ops:,.0f}"])
    _table(out, header, rows, text_cols=1)

    scaling = Goal(f"pattern checks scale close to linearly: 10x more operations costs at most "
                   f"{SCALING_BAR:g}x the time (every check, every step)")
    print("\n4. Scaling: time(bigger) / time(smaller) for each step between the sizes (linear: the size ratio);\n"
          "   vs lin = that ratio / the linear pass's own ratio (>1: grows faster than one pass over the history)",
          file=out)
    steps = list(itertools.pairwise(results))
    if steps:
        header = ["check"]
        for a, b in steps:
            header += [f"{size_label(a['n'])}->{size_label(b['n'])}", "vs lin"]
        rows = []
        failing: list[str] = []
        worst: tuple[float, str] | None = None
        for name in names:
            row = [name]
            for a, b in steps:
                ratio = b["times"][name] / a["times"][name]
                lin = b["times"]["linear pass"] / a["times"]["linear pass"]
                k = b["census"]["ops"] / a["census"]["ops"]
                bar = SCALING_BAR * k / 10
                row.append(f"{ratio:.1f}x" + ("  !" if ratio > bar and name != "linear pass" else ""))
                row.append(f"{ratio / lin:.2f}")
                if name != "linear pass":
                    where = f"{name}, {size_label(a['n'])}->{size_label(b['n'])}"
                    if worst is None or ratio / bar > worst[0]:
                        worst = (ratio / bar, f"{ratio:.1f}x at {where}")
                    if ratio > bar:
                        failing.append(f"over the bar: {ratio:.1f}x at {where} (bar {bar:.1f}x)")
            rows.append(row)
        _table(out, header, rows, text_cols=1)
        print(f"   '!' marks a step over the bar ({SCALING_BAR:g}x per 10x, scaled to the size ratio).", file=out)
        scaling.verdict = "MET" if not failing else "NOT MET"
        scaling.details = [f"worst: {worst[1]}" if worst else ""] + failing
    else:
        print("   (one size only: nothing to compare)", file=out)

    print("\n5. Injected violations, one at a time into a copy of the valid history (site: its middle)", file=out)
    header = ["violation", "target check", *labels]
    rows = []
    missing: list[str] = []
    reported: list[str] = []
    for k, inj in enumerate(INJECTIONS):
        row = [inj.name, inj.check]
        fired_sets: dict[tuple[str, ...], list[str]] = {}
        for r, label in zip(results, labels, strict=True):
            res = r["injections"][k]
            row.append(res["result"])
            if res["result"] not in ("FOUND", "n/a"):
                missing.append(f"{inj.name} at {label}: {res['result']}")
            if res["result"] != "n/a":
                fired_sets.setdefault(tuple(res["fired"]), []).append(label)
        rows.append(row)
        if len(fired_sets) == 1:
            reported.append(f"{inj.name}: {', '.join(next(iter(fired_sets))) or 'none'}")
        elif fired_sets:
            reported.append(f"{inj.name}: " + "; ".join(f"{', '.join(f) or 'none'} (at {'/'.join(at)})"
                                                     for f, at in fired_sets.items()))
    _table(out, header, rows, text_cols=2)
    print("   Checks that said VIOLATION (the target, and any other the injection also breaks):", file=out)
    for line in reported:
        print(f"     {line}", file=out)
    print(f"   How each was injected at {labels[-1]}:", file=out)
    for res in results[-1]["injections"]:
        print(f"     {res['name']}: {res['what'] or res['result']}", file=out)

    big = Goal(f"a 10^6-operation history is checked in under {BIG_SECONDS:g} s and "
               f"{BIG_BYTES / 10**9:g} GB")
    r_big = next((r for r in results if r["n"] == BIG), None)
    if r_big is not None:
        t, rss = r_big["times"]["check_patterns"], r_big["rss_checked"]
        big.verdict = "MET" if t < BIG_SECONDS and rss < BIG_BYTES else "NOT MET"
        big.details = [f"check_patterns {t:.2f} s, peak RSS {rss / 10**9:.2f} GB "
                       f"({_mb(rss)}, history included)"]
    found = Goal("every injected violation is found")
    total = sum(1 for r in results for res in r["injections"] if res["result"] != "n/a")
    found.verdict = "MET" if not missing else "NOT MET"
    found.details = [f"{total - len(missing)}/{total} found"] + missing
    return [scaling, big, found]


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------


def _size(text: str) -> int:
    text = text.strip().replace("_", "")
    try:
        n = 10 ** int(text[3:]) if text.startswith("10^") else int(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r}: an int, 1e5 or 10^5") from None
    if n < 100:
        raise argparse.ArgumentTypeError(f"size {text!r}: at least 100 operations")
    return n


def _sizes(text: str) -> list[int]:
    return sorted({_size(part) for part in text.split(",") if part.strip()})


def _capacity(text: str) -> int | None:
    if text.strip().lower() in ("none", "unbounded"):
        return None
    if text.strip().isdigit() and int(text) > 0:
        return int(text)
    raise argparse.ArgumentTypeError(f"capacity {text!r}: 'none' or a positive int (no rendezvous histories)")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.checkers",
                                description="Time, memory, scaling and sensitivity of the pattern checkers.")
    p.add_argument("--sizes", type=_sizes, default=None,
                   help="operations per history, e.g. '1000,10^4,1e5' (default 10^3..10^6; --quick up to 10^5)")
    p.add_argument("--capacity", type=_capacity, default=64, help="channel capacity, or 'none' (default 64)")
    p.add_argument("--producers", type=int, default=4, help="producer threads (default 4)")
    p.add_argument("--seed", type=int, default=1, help="random seed of the generator (default 1)")
    p.add_argument("--repeats", type=int, default=None,
                   help="timing samples per size, best kept (default 5 up to 3*10^4 ops, 3 up to 3*10^5, then 1)")
    p.add_argument("--quick", action="store_true", help="stop at 10^5 operations")
    p.add_argument("--profile", type=_size, default=None, metavar="SIZE",
                   help="instead of the benchmark: cProfile check_patterns on one valid history of SIZE ops")
    p.add_argument("--processes", type=int, default=None,
                   help="fresh child processes per size, best time kept (default 3 up to 10^5 ops, then 2)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--no-inject", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.sizes is None:
        args.sizes = [n for n in DEFAULT_SIZES if not args.quick or n <= QUICK_MAX]
    if args.producers < 1 or any(v is not None and v < 1 for v in (args.repeats, args.processes)):
        p.error("--producers, --repeats and --processes must be positive")
    return args


def profile_main(args: argparse.Namespace, out: TextIO) -> None:
    history = generate(args.profile, args.capacity, args.producers, args.seed)
    print(f"cProfile of check_patterns on a valid history of {len(history.operations):,} operations "
          f"(capacity {cap_label(args.capacity)}, {args.producers} producers)", file=out)
    prof = cProfile.Profile()
    prof.enable()
    check_patterns(history)
    prof.disable()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(15)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> list[Goal]:
    """Run the benchmark, print the tables and the goals; return the evaluated goals."""
    out = out if out is not None else sys.stdout
    args = parse_args(argv)
    if args.worker:
        (n,) = args.sizes
        json.dump(measure(n, args.capacity, args.producers, args.seed, args.repeats or default_repeats(n),
                          inject=not args.no_inject), sys.stdout)
        return []
    if args.profile is not None:
        profile_main(args, out)
        return []

    print("Pattern-checker benchmark (conformance._checks)", file=out)
    print(f"  python {platform.python_version()} ({platform.python_implementation()}), "
          f"{os.cpu_count()} CPUs", file=out)
    print(f"  sizes {[size_label(n) for n in args.sizes]}, capacity {cap_label(args.capacity)}, "
          f"{args.producers} producers + 1 consumer, seed {args.seed}", file=out)
    print("  each size runs in fresh child processes (best time over them); memory = RSS high-water mark "
          "(ru_maxrss)", file=out)
    out.flush()
    began = time.perf_counter()
    if not self_check(args, out):
        print("   THE GENERATOR IS WRONG: the numbers below judge invalid histories", file=out)
    out.flush()

    results = []
    for n in args.sizes:
        t0 = time.perf_counter()
        results.append(measure_size(args, n))
        print(f"  n={size_label(n)} measured in {results[-1]['processes']} process(es) "
              f"({time.perf_counter() - t0:.1f} s)", file=out)
        out.flush()

    goals = report(out, args, results)
    print("\nGoals:", file=out)
    for goal in goals:
        goal.report(out)
    print(f"\nTotal time {time.perf_counter() - began:.1f} s.", file=out)
    return goals


if __name__ == "__main__":
    main()
