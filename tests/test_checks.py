"""Tests of the pattern checkers (``conformance._checks``).

Four kinds:

* golden histories: every ``tests/histories/<check>-legal-*.jsonl`` passes every check;
  every ``<check>-illegal-*.jsonl`` fails the check its header names (``"expect"``), with
  exactly the witnesses its header lists (``"witness"``, and ``"cycle"`` where there is one);
* soundness: histories made by running the model itself (one step at a time, a blocked call
  spanning the steps until it resumes), then widened at random the way real calls overlap,
  are linearizable by construction, so every check must pass them;
* brute force: on random histories, mostly illegal, the O(n log n) checks agree with
  quadratic definitions (for producer order: the full graph, every pair of receives);
* sensitivity: a sequential history of the model, corrupted (two received values swapped,
  a receive repeated or dropped, a successful try_recv turned into Empty), fails a check.
"""

from __future__ import annotations

import itertools
import json
import math
import pathlib
import random
from dataclasses import replace

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import history as hist
from conformance._checks import (
    PATTERN_CHECKS,
    check_empty,
    check_full,
    check_patterns,
    check_producer_order,
    check_realtime_fifo,
    check_synchronisation,
)
from conformance._evidence import Finding, Verdict3
from conformance.history import History, Kind, Operation, Status
from spec import (
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
    Recv,
    RecvTimeout,
    Resume,
    Send,
    SendTimeout,
    State,
    TryRecv,
    TrySend,
    can_complete,
    initial,
    step,
)

HISTORIES = pathlib.Path(__file__).parent / "histories"
FILES = sorted(HISTORIES.glob("*.jsonl"))
CHECK_NAMES = {
    "well_formed", "integrity", "causality", "producer_order", "realtime_fifo", "empty", "full",
    "disconnected", "synchronisation",
}


def _violations(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.verdict is not Verdict3.OK]


def _explain(findings: list[Finding]) -> str:
    return "\n".join(f"{f.check}: {f.message} {[o.id for o in f.operations]} {f.cycle}" for f in findings)


# --- the checks as a set ----------------------------------------------------------------------


def test_every_check_names_itself_once():
    empty = History(None, ())
    names = [check(empty).check for check in PATTERN_CHECKS]
    assert sorted(names) == sorted(CHECK_NAMES)
    assert [f.check for f in check_patterns(empty)] == names
    assert all(f.ok for f in check_patterns(empty))


# --- golden histories -------------------------------------------------------------------------


def test_there_is_a_legal_and_an_illegal_history_for_every_check():
    for name in CHECK_NAMES:
        assert list(HISTORIES.glob(f"{name}-legal-*.jsonl")), name
        assert list(HISTORIES.glob(f"{name}-illegal-*.jsonl")), name


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_golden_history(path: pathlib.Path):
    header = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    history = hist.load(path)  # unknown header keys ("expect", "witness") are ignored
    findings = check_patterns(history)
    check, legality = path.stem.split("-")[:2]
    assert check in CHECK_NAMES
    if legality == "legal":
        assert "expect" not in header
        assert not _violations(findings), _explain(findings)
        return
    assert legality == "illegal" and header["expect"] == check
    (finding,) = [f for f in findings if f.check == check]
    assert finding.verdict is Verdict3.VIOLATION
    assert finding.message
    assert finding.rule is not None or check == "well_formed"
    named = {op.id for op in finding.operations} | set(finding.cycle)
    assert named == set(header["witness"]), finding.message
    if "cycle" in header:
        assert sorted(finding.cycle) == sorted(header["cycle"])
    if check != "well_formed":  # every other history is well formed
        assert findings[0].check == "well_formed" and findings[0].ok, findings[0].message


def test_producer_order_cycle_is_a_cycle_of_receives():
    history = hist.load(HISTORIES / "producer_order-illegal-two-consumers.jsonl")
    finding = check_producer_order(history)
    by_id = {op.id: op for op in history.operations}
    assert len(finding.cycle) >= 2
    assert all(by_id[n].kind.is_recv and by_id[n].status is Status.OK for n in finding.cycle)


def test_checks_that_do_not_apply_say_so():
    rendezvous = History(0, (Operation(1, "p", Kind.TRY_SEND, 0, 1, Status.FULL, 0, "a"),))
    assert check_full(rendezvous).ok and "rendezvous" in check_full(rendezvous).message
    assert "unbounded" in check_synchronisation(History(None, ())).message


# --- scale -----------------------------------------------------------------------------------


def _busy_history(n: int, consumers: int, capacity: int | None, seed: int) -> History:
    """A long legal history: a FIFO queue driven by 4 producers and ``consumers`` consumers,
    each call widened around the instant it took effect so that threads overlap."""
    rnd = random.Random(seed)
    threads = [f"p{i}" for i in range(4)] + [f"c{i}" for i in range(consumers)]
    buffer: list[str] = []
    plan: list[tuple[str, Kind, Status, str | None, str | None]] = []
    for k in range(n):
        thread = rnd.choice(threads)
        if thread.startswith("p"):
            if capacity is not None and len(buffer) >= capacity:
                plan.append((thread, Kind.TRY_SEND, Status.FULL, f"x{k}", None))
            else:
                buffer.append(f"m{k}")
                plan.append((thread, Kind.SEND, Status.OK, f"m{k}", None))
        elif buffer:
            plan.append((thread, Kind.RECV, Status.OK, None, buffer.pop(0)))
        else:
            plan.append((thread, Kind.TRY_RECV, Status.EMPTY, None, None))
    plan += [("drain", Kind.TRY_RECV, Status.OK, None, v) for v in buffer]
    plan.append(("drain", Kind.TRY_RECV, Status.EMPTY, None, None))
    spans: dict[int, tuple[float, float]] = {}
    for thread in {p[0] for p in plan}:
        mine = [k for k, p in enumerate(plan) if p[0] == thread]
        before = -math.inf
        for j, k in enumerate(mine):
            after = 10 * mine[j + 1] if j + 1 < len(mine) else math.inf
            spans[k] = (max(before, 10 * k - rnd.randint(0, 40)), min(after, 10 * k + rnd.randint(0, 40)))
            before = spans[k][1]
    ops = (Operation(k, p[0], p[1], *spans[k], p[2], 0 if p[1].is_send else None, p[3], p[4])
           for k, p in enumerate(plan))
    return History(capacity, tuple(ops))


@pytest.mark.parametrize(("consumers", "capacity"), [(1, None), (3, 4)])
def test_long_histories_pass_in_reasonable_time(consumers: int, capacity: int | None):
    """20 000 operations; a quadratic check would take minutes here (the benchmark runs 10^6)."""
    history = _busy_history(20_000, consumers, capacity, seed=consumers)
    findings = check_patterns(history)
    assert not _violations(findings), _explain(findings)


# --- the fast checks against brute force ------------------------------------------------------


def _random_history(rnd: random.Random) -> History:
    """Any old history (mostly illegal): a few producers and consumers, each value sent once
    and received once in a random order, with times that often tie."""
    ops: list[Operation] = []

    def spans(count: int) -> list[tuple[int, int]]:
        t, out = rnd.randint(0, 3), []
        for _ in range(count):
            a = t + rnd.choice([0, 0, 1, 2])
            b = a + rnd.choice([0, 1, 2, 5])
            out.append((a, b))
            t = b + rnd.choice([0, 0, 1])
        return out

    values = [f"v{n}" for n in range(rnd.randint(0, 7))]
    producers, consumers = rnd.randint(1, 3), rnd.randint(1, 3)
    producer_of = {v: rnd.randrange(producers) for v in values}
    by_producer = [[v for v in values if producer_of[v] == p] for p in range(producers)]
    for p, mine in enumerate(by_producer):
        for v, (a, b) in zip(mine, spans(len(mine)), strict=True):
            ops.append(Operation(len(ops) + 1, f"p{p}", Kind.SEND, a, b, Status.OK, 0, v))
    sent = [v for mine in by_producer for v in mine]
    rnd.shuffle(sent)
    for c in range(consumers):
        mine: list[str | None] = [v for n, v in enumerate(sent) if n % consumers == c] + [None] * rnd.randint(0, 2)
        rnd.shuffle(mine)
        for v, (a, b) in zip(mine, spans(len(mine)), strict=True):
            status = Status.EMPTY if v is None else Status.OK
            ops.append(Operation(len(ops) + 1, f"c{c}", Kind.RECV if v else Kind.TRY_RECV, a, b, status, result=v))
    return History(rnd.choice([None, 1, 2]), tuple(ops))


def _takes_in_order(history: History) -> bool:
    """Brute force for check_producer_order: the full precedence relation, every pair."""
    takes = [op for op in history.operations if op.kind.is_recv and op.status is Status.OK]
    send = {op.value: op for op in history.operations if op.kind.is_send}
    graph = nx.DiGraph()
    graph.add_nodes_from(x.id for x in takes)
    for x, y in itertools.permutations(takes, 2):
        a, b = send[x.result], send[y.result]
        if (x.end < y.invoke or (x.thread == y.thread and (x.invoke, x.id) < (y.invoke, y.id))
                or (a.thread == b.thread and (a.invoke, a.id) < (b.invoke, b.id))):
            graph.add_edge(x.id, y.id)
    return bool(nx.is_directed_acyclic_graph(graph))


def _realtime_fifo(history: History) -> bool:
    taken = {op.result: op for op in history.operations if op.kind.is_recv and op.status is Status.OK}
    sends = [op for op in history.operations if op.kind.is_send and op.value in taken]
    return not any(a.end < b.invoke and taken[b.value].end < taken[a.value].invoke
                   for a, b in itertools.permutations(sends, 2))


def _empty_when_empty(history: History) -> bool:
    taken = {op.result: op for op in history.operations if op.kind.is_recv and op.status is Status.OK}
    sends = [op for op in history.operations if op.kind.is_send]
    return not any(s.end < e.invoke and (taken[s.value].invoke if s.value in taken else math.inf) > e.end
                   for e in history.operations if e.status is Status.EMPTY for s in sends)


@settings(max_examples=200, deadline=None)
@given(st.randoms(use_true_random=False))
def test_fast_checks_agree_with_brute_force(rnd: random.Random):
    history = _random_history(rnd)
    assert check_producer_order(history).ok == _takes_in_order(history)
    assert check_realtime_fifo(history).ok == _realtime_fifo(history)
    assert check_empty(history).ok == _empty_when_empty(history)


# --- histories made by the model --------------------------------------------------------------

THREADS = ("t0", "t1", "t2")
_KINDS = {
    Send: Kind.SEND, SendTimeout: Kind.SEND_TIMEOUT, TrySend: Kind.TRY_SEND, Clone: Kind.CLONE,
    CloseSender: Kind.CLOSE_SENDER, Recv: Kind.RECV, RecvTimeout: Kind.RECV_TIMEOUT,
    TryRecv: Kind.TRY_RECV, CloseReceiver: Kind.CLOSE_RECEIVER,
}
_STATUS = {
    ErrorKind.DISCONNECTED: Status.DISCONNECTED, ErrorKind.EMPTY: Status.EMPTY, ErrorKind.FULL: Status.FULL,
    ErrorKind.TIMEOUT: Status.TIMEOUT, ErrorKind.HANDLE_CLOSED: Status.HANDLE_CLOSED,
}


def _calls(state: State, value: str, *, parking: bool) -> list[Op]:
    """New calls a free thread may make now; blocking ones only if they complete at once,
    unless ``parking`` (then a blocking call may park and resume later)."""
    calls: list[Op] = []
    for h in range(state.next_handle):
        calls += [Send(h, value), SendTimeout(h, value), TrySend(h, value), TrySend(h, value)]
    calls += [Recv(), RecvTimeout(), TryRecv(), Recv(), TryRecv()]
    for h in range(state.next_handle):
        calls += [Clone(h), CloseSender(h)]
    calls.append(CloseReceiver())
    if not parking:
        blocking = (Send, SendTimeout, Recv, RecvTimeout)
        calls = [c for c in calls if not isinstance(c, blocking) or can_complete(state, c)]
    return calls


@st.composite
def model_histories(draw: st.DrawFn, capacities: tuple[int | None, ...] = (None, 0, 1, 2, 3),
                    parking: bool = True, max_steps: int = 30) -> History:
    """Run the model one step at a time.  A call that does not park spans one step; a call
    that parks spans from its step to the step that resumes or cancels it (a partner or a
    close may resolve it in between), and one that never resumes is pending.  Each thread
    makes one call at a time.  At the end, as the runner does, a drain thread takes what is
    left with try_recv.  Every operation takes effect inside its span, in the model's
    order, so the history is linearizable."""
    capacity = draw(st.sampled_from(capacities))
    state = initial(capacity)
    ops: list[Operation] = []
    parked: dict[int, tuple[str, Op, int]] = {}  # ticket -> (thread, call, invoke time)
    sent = 0

    def record(thread: str, call: Op, invoke: int, respond: int | None, outcome: object) -> None:
        kind = _KINDS[type(call)]
        status, result = Status.PENDING, None
        if isinstance(outcome, Done):
            status = Status.OK
        elif isinstance(outcome, Got):
            status, result = Status.OK, outcome.value
        elif isinstance(outcome, NewSender):
            status, result = Status.OK, outcome.handle
        elif isinstance(outcome, Failed):
            status = _STATUS[outcome.error]
        handle = getattr(call, "handle", None)
        value = getattr(call, "value", None)
        ops.append(Operation(len(ops) + 1, thread, kind, invoke, respond, status, handle, value, result))

    steps = draw(st.integers(0, max_steps))
    for clock in range(0, 2 * steps, 2):
        busy = {thread for thread, _, _ in parked.values()}
        free = [t for t in THREADS if t not in busy]
        moves: list[Op] = []
        if free:
            moves += _calls(state, f"m{sent}", parking=parking)
        for w in state.waiters:
            if can_complete(state, Resume(w.ticket)):
                moves.append(Resume(w.ticket))
            if isinstance(w.op, (SendTimeout, RecvTimeout)):
                moves.append(Cancel(w.ticket))
        if not moves:
            break
        move = draw(st.sampled_from(moves))
        t = step(state, move)
        if isinstance(move, (Resume, Cancel)):
            thread, call, invoke = parked.pop(move.ticket)
            record(thread, call, invoke, clock + 1, t.outcome)
        else:
            thread = draw(st.sampled_from(free))
            if isinstance(move, (Send, SendTimeout, TrySend)):
                sent += 1
            if isinstance(t.outcome, Blocked):
                parked[t.outcome.ticket] = (thread, move, clock)
            else:
                record(thread, move, clock, clock + 1, t.outcome)
        state = t.state
    clock = 2 * steps
    while state.receiver_open:  # the drain
        t = step(state, TryRecv())
        record("drain", TryRecv(), clock, clock + 1, t.outcome)
        clock += 2
        state = t.state
        if not isinstance(t.outcome, Got):
            break
    for thread, call, invoke in parked.values():
        record(thread, call, invoke, None, None)
    history = History(capacity, tuple(ops), "the model")
    return hist.loads(hist.dumps(history))  # and the file format round-trips it


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model_histories())
def test_histories_of_the_model_pass_every_check(history: History):
    findings = check_patterns(history)
    assert not _violations(findings), _explain(findings) + "\n" + hist.dumps(history)


def _stretch(history: History, rnd: random.Random) -> History:
    """Widen operations at random, never past their thread's neighbours: each still spans
    the instant it took effect in the model, so the history stays linearizable, now with
    all the overlaps a real run has."""
    out = []
    for ops in history.by_thread().values():
        before = ops[0].invoke - 3
        for k, op in enumerate(ops):
            after = ops[k + 1].invoke if k + 1 < len(ops) else op.end + 3
            invoke = rnd.choice([op.invoke, rnd.uniform(before, op.invoke)])
            respond = None if op.respond is None else rnd.choice([op.respond, rnd.uniform(op.respond, after)])
            out.append(replace(op, invoke=invoke, respond=respond))
            before = op.end if respond is None else respond
    return replace(history, operations=tuple(out))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model_histories(), st.randoms(use_true_random=False))
def test_stretched_histories_of_the_model_pass_every_check(history: History, rnd: random.Random):
    stretched = hist.loads(hist.dumps(_stretch(history, rnd)))
    findings = check_patterns(stretched)
    assert not _violations(findings), _explain(findings) + "\n" + hist.dumps(stretched)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model_histories(capacities=(None, 1, 2, 3), parking=False, max_steps=40))
def test_sequential_histories_of_the_model_pass_every_check(history: History):
    assert not _violations(check_patterns(history))


# --- corrupted histories ----------------------------------------------------------------------


def _end(history: History) -> float:
    return max((op.end for op in history.operations if op.respond is not None), default=0)


def _mutations(history: History) -> list[tuple[str, History]]:
    """Every corruption that applies to this (sequential) history."""
    ops = list(history.operations)
    takes = [n for n, op in enumerate(ops) if op.kind.is_recv and op.status is Status.OK]
    out: list[tuple[str, History]] = []
    for a, b in itertools.pairwise(takes):
        swapped = list(ops)
        swapped[a], swapped[b] = replace(ops[a], result=ops[b].result), replace(ops[b], result=ops[a].result)
        out.append(("swap two received values", replace(history, operations=tuple(swapped))))
    for n in takes:
        t = _end(history) + 1
        again = replace(ops[n], id=max(op.id for op in ops) + 1, thread="again", invoke=t, respond=t + 1)
        out.append(("receive a value twice", replace(history, operations=(*ops, again))))
    if not any(op.kind is Kind.CLOSE_RECEIVER for op in ops):
        for n in takes:
            out.append(("drop a receive", replace(history, operations=(*ops[:n], *ops[n + 1:]))))
    for n in takes:
        if ops[n].kind is Kind.TRY_RECV:
            empty = replace(ops[n], status=Status.EMPTY, result=None)
            out.append(("try_recv says Empty", replace(history, operations=(*ops[:n], empty, *ops[n + 1:]))))
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model_histories(capacities=(None, 1, 2, 3), parking=False, max_steps=30), st.data())
def test_corrupted_histories_fail_a_check(history: History, data: st.DataObject):
    mutations = _mutations(history)
    if not mutations:
        return
    what, corrupted = data.draw(st.sampled_from(mutations), label="mutation")
    findings = check_patterns(corrupted)
    assert _violations(findings), f"{what} went unnoticed:\n{hist.dumps(corrupted)}"


def test_each_corruption_is_caught_by_the_check_that_owns_it():
    """One hand-made sequential history, each corruption, and the check expected to catch it."""
    base = hist.loads("\n".join([
        json.dumps({"format": "mpsc-history", "version": 1, "capacity": 2}),
        '{"id": 1, "thread": "p", "op": "send", "handle": 0, "value": "a", "invoke": 0, "respond": 1, "outcome": "ok"}',
        '{"id": 2, "thread": "p", "op": "send", "handle": 0, "value": "b", "invoke": 2, "respond": 3, "outcome": "ok"}',
        '{"id": 3, "thread": "c", "op": "try_recv", "invoke": 4, "respond": 5, "outcome": "ok", "result": "a"}',
        '{"id": 4, "thread": "c", "op": "recv", "invoke": 6, "respond": 7, "outcome": "ok", "result": "b"}',
        '{"id": 5, "thread": "drain", "op": "try_recv", "invoke": 8, "respond": 9, "outcome": "empty"}',
    ]))
    assert not _violations(check_patterns(base))
    caught = {what: {f.check for f in _violations(check_patterns(h))} for what, h in _mutations(base)}
    assert {"producer_order", "realtime_fifo"} <= caught["swap two received values"]
    assert "integrity" in caught["receive a value twice"]
    assert "integrity" in caught["drop a receive"]
    assert "empty" in caught["try_recv says Empty"]
