"""The linearizability checker (``conformance._linearizability``).

Hand-made histories for every capacity, each a legal concurrent run and an illegal one;
property tests on histories made by running the model itself (sequentially, and
concurrently by a random scheduler of simulated threads), which must be accepted, and on
perturbed copies, which must not; and a cross-check against an exhaustive reference search
with none of the checker's reductions, which must agree with it on every small history.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conformance._evidence import Verdict3
from conformance._linearizability import check_linearizable
from conformance.history import History, HistoryError, Kind, Operation, Status
from spec import (
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
    TryRecv,
    TrySend,
    can_complete,
    initial,
    step,
)

OK, VIOLATION, UNKNOWN = Verdict3.OK, Verdict3.VIOLATION, Verdict3.UNKNOWN
ALL_CAPS = [None, 0, 1, 2]

# --- building histories by hand ------------------------------------------------------------


def op(
    id: int,
    thread: str,
    kind: str,
    invoke: float,
    respond: float | None,
    status: str = "ok",
    *,
    handle: int | None = None,
    value: str | int | None = None,
    result: str | int | None = None,
) -> Operation:
    k = Kind(kind)
    if k.uses_handle and handle is None:
        handle = 0
    s = Status.PENDING if respond is None else Status(status)
    return Operation(id, thread, k, invoke, respond, s, handle, value, result)


def verdict(capacity: int | None, *ops: Operation) -> Verdict3:
    """The checker's verdict, which the exhaustive reference search must share."""
    history = History(capacity, ops)
    result = check_linearizable(history).verdict
    assert result is (OK if reference_linearizable(history) else VIOLATION)
    return result


# --- unbounded -----------------------------------------------------------------------------------


def test_unbounded_overlapping_sends_may_be_received_in_either_order() -> None:
    assert verdict(
        None,
        op(1, "p1", "send", 0, 10, value="a"),
        op(2, "p2", "send", 1, 11, value="b"),
        op(3, "r", "recv", 2, 12, result="b"),
        op(4, "r", "recv", 13, 14, result="a"),
    ) is OK


def test_unbounded_fifo_violation_is_illegal() -> None:
    finding = check_linearizable(History(None, (
        op(1, "p", "send", 0, 1, value="a"),
        op(2, "p", "send", 2, 3, value="b"),
        op(3, "r", "recv", 4, 5, result="b"),
    )))
    assert finding.verdict is VIOLATION
    assert finding.check == "linearizability" and finding.rule is None
    # Evidence: the prefix (both sends), then the receive that cannot follow it, and what the
    # model gives there, naming the real message (though no receive returned "a").
    assert [o.id for o in finding.operations] == [1, 2, 3]
    assert "#3 recv" in finding.message and "the model gives ok 'a'" in finding.message


def test_empty_while_a_message_was_certainly_buffered_is_illegal() -> None:
    send = op(1, "p", "send", 0, 1, value="a")
    assert verdict(None, send, op(2, "r", "try_recv", 2, 3, "empty")) is VIOLATION
    # ...but legal while the send may not have taken effect yet.
    assert verdict(None, replace(send, respond=5), op(2, "r", "try_recv", 2, 3, "empty")) is OK


def test_phantom_message_is_illegal() -> None:
    assert verdict(None, op(1, "r", "try_recv", 0, 1, result="ghost")) is VIOLATION


def test_a_pending_send_may_have_delivered_its_value() -> None:
    # Cut off before it returned, yet its value arrived: the standard completion of a history.
    assert verdict(None, op(1, "p", "send", 0, None, value="a"), op(2, "r", "recv", 5, 6, result="a")) is OK
    # And a pending call need not take effect at all.
    assert verdict(None, op(1, "r", "recv", 0, None), op(2, "p", "send", 1, 2, value="a")) is OK


def test_disconnected_before_the_last_close_is_illegal() -> None:
    ops = [
        op(1, "p", "clone", 0, 1, handle=0, result=1),
        op(2, "p", "close_sender", 2, 3, handle=0),
        op(3, "r", "recv", 4, 5, "disconnected"),
        op(4, "q", "close_sender", 6, 7, handle=1),
    ]
    assert verdict(None, *ops) is VIOLATION
    # Overlapping the last close, the disconnection is legal.
    assert verdict(None, *ops[:2], replace(ops[2], respond=8), ops[3]) is OK


# --- bounded -------------------------------------------------------------------------------------


@pytest.mark.parametrize("capacity", [None, 1, 2])
def test_buffered_fifo_violation_is_illegal(capacity: int | None) -> None:
    ops = (
        op(1, "p", "send", 0, 1, value="a"),
        op(2, "r", "recv", 2, 3, result="a"),
        op(3, "p", "send", 4, 5, value="b"),
        op(4, "p", "try_send", 6, 7, "full" if capacity == 1 else "ok", value="c"),
        op(5, "r", "recv", 8, 9, result="c"),
    )
    assert verdict(capacity, *ops) is VIOLATION
    assert verdict(capacity, *ops[:4], replace(ops[4], result="b")) is OK


def test_send_blocked_on_a_full_buffer_completes_after_a_receive() -> None:
    ops = (
        op(1, "p", "send", 0, 1, value="a"),
        op(2, "p", "send", 2, 10, value="b"),  # blocked: the one slot holds "a"
        op(3, "r", "recv", 5, 6, result="a"),
        op(4, "r", "recv", 11, 12, result="b"),
    )
    assert verdict(1, *ops) is OK
    # Returning before any receive began is impossible with one slot (rule 11).
    assert verdict(1, ops[0], replace(ops[1], respond=4), *ops[2:]) is VIOLATION
    assert verdict(2, ops[0], replace(ops[1], respond=4), *ops[2:]) is OK


def test_full_only_when_certainly_full() -> None:
    assert verdict(2, op(1, "p", "send", 0, 1, value="a"), op(2, "p", "try_send", 2, 3, "full", value="b")) is VIOLATION
    assert verdict(1, op(1, "p", "send", 0, 1, value="a"), op(2, "p", "try_send", 2, 3, "full", value="b")) is OK
    # Full is legal while a receive that empties the buffer overlaps it.
    assert verdict(1, op(1, "p", "send", 0, 1, value="a"), op(2, "r", "try_recv", 0.5, 3, result="a"),
                   op(3, "p", "try_send", 2, 4, "full", value="b")) is OK


def test_timed_receive_times_out_only_when_it_could_not_complete() -> None:
    assert verdict(2, op(1, "r", "recv_timeout", 0, 5, "timeout")) is OK
    ops = (op(1, "p", "send", 0, 1, value="a"), op(2, "r", "recv_timeout", 2, 5, "timeout"))
    assert verdict(2, *ops) is VIOLATION
    assert verdict(2, replace(ops[0], respond=3), ops[1]) is OK
    # An untimed receive cannot time out at all.
    assert verdict(2, op(1, "r", "recv", 0, 5, "timeout")) is VIOLATION


@pytest.mark.parametrize("capacity", [0, 1])
def test_closing_a_handle_under_a_blocked_send_wakes_it_with_handle_closed(capacity: int) -> None:
    fill = [op(1, "p", "send", 0, 1, value="a")] if capacity else []
    ops = (
        *fill,
        op(2, "p", "send", 2, 10, "handle_closed", handle=0, value="b"),
        op(3, "q", "close_sender", 4, 5, handle=0),
    )
    assert verdict(capacity, *ops) is OK  # rule 12: the close wakes it with its value
    # Without the close it could only have blocked on.
    assert verdict(capacity, *ops[:-1]) is VIOLATION


# --- rendezvous ----------------------------------------------------------------------------------


def test_rendezvous_send_returning_before_any_receive_began_is_illegal() -> None:
    assert verdict(0, op(1, "p", "send", 0, 1, value="a"), op(2, "r", "recv", 2, 3, result="a")) is VIOLATION
    assert verdict(1, op(1, "p", "send", 0, 1, value="a"), op(2, "r", "recv", 2, 3, result="a")) is OK


def test_rendezvous_hand_off_between_overlapping_send_and_receive() -> None:
    assert verdict(0, op(1, "p", "send", 0, 5, value="a"), op(2, "r", "recv", 1, 6, result="a")) is OK
    assert verdict(0, op(1, "p", "send", 1, 3, value="a"), op(2, "r", "recv", 0, 6, result="a")) is OK
    # Two senders, two receives: each receive takes one of the values that were on offer.
    assert verdict(
        0,
        op(1, "p1", "send", 0, 10, value="a"),
        op(2, "p2", "send", 1, 10, value="b"),
        op(3, "r", "recv", 2, 3, result="b"),
        op(4, "r", "recv", 4, 5, result="a"),
    ) is OK


def test_rendezvous_try_recv_succeeds_only_from_a_parked_sender() -> None:
    assert verdict(0, op(1, "p", "send", 0, 10, value="a"), op(2, "r", "try_recv", 2, 3, result="a")) is OK
    assert verdict(0, op(1, "p", "send", 5, 10, value="a"), op(2, "r", "try_recv", 2, 3, result="a")) is VIOLATION
    # Nobody parked: Empty is the only legal answer, and a try_send is Full.
    assert verdict(0, op(1, "r", "try_recv", 0, 1, "empty"), op(2, "p", "try_send", 2, 3, "full", value="a")) is OK


def test_rendezvous_pending_sender_may_have_handed_its_value_over() -> None:
    assert verdict(0, op(1, "p", "send", 0, None, value="a"), op(2, "r", "try_recv", 2, 3, result="a")) is OK
    assert verdict(0, op(1, "p", "send", 0, None, value="a"), op(2, "r", "try_recv", 2, 3, "empty")) is OK
    # A pending receiver may have taken a value, so the send could complete.
    assert verdict(0, op(1, "r", "recv", 0, None), op(2, "p", "send", 2, 3, value="a")) is OK
    assert verdict(0, op(1, "r", "recv", 4, None), op(2, "p", "send", 2, 3, value="a")) is VIOLATION


def test_two_receivers_share_the_messages_in_fifo_order() -> None:
    # Rule 12: two threads may use the one receiver; each message goes to one of them.
    ops = (
        op(1, "p", "send", 0, 1, value="a"),
        op(2, "p", "send", 2, 3, value="b"),
        op(3, "r1", "recv", 4, 10, result="b"),
        op(4, "r2", "recv", 5, 9, result="a"),
    )
    assert verdict(2, *ops) is OK
    assert verdict(2, *ops[:2], replace(ops[2], respond=4.5), ops[3]) is VIOLATION
    assert verdict(2, *ops, op(5, "r2", "try_recv", 9.5, 11, result="a")) is VIOLATION


def test_rendezvous_try_send_succeeds_only_to_a_parked_receiver() -> None:
    assert verdict(0, op(1, "r", "recv", 0, 10, result="a"), op(2, "p", "try_send", 2, 3, value="a")) is OK
    assert verdict(0, op(1, "r", "recv", 4, 10, result="a"), op(2, "p", "try_send", 2, 3, value="a")) is VIOLATION


def test_rendezvous_timed_send_times_out() -> None:
    assert verdict(0, op(1, "p", "send_timeout", 0, 5, "timeout", value="a")) is OK
    # A receiver that took the value means it did not time out...
    assert verdict(0, op(1, "p", "send_timeout", 0, 5, "timeout", value="a"),
                   op(2, "r", "recv", 1, 6, result="a")) is VIOLATION
    # ...unless the value could have come from another sender.
    assert verdict(0, op(1, "p", "send_timeout", 0, 5, "timeout", value="a"), op(3, "q", "send", 0, 6, value="b"),
                   op(2, "r", "recv", 1, 6, result="b")) is OK


# --- handles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("capacity", ALL_CAPS, ids=repr)
def test_overlapping_clones_are_matched_by_the_numbers_they_returned(capacity: int | None) -> None:
    ops = (
        op(1, "p1", "clone", 0, 10, handle=0, result=7),
        op(2, "p2", "clone", 1, 5, handle=0, result=3),
        op(3, "p2", "close_sender", 6, 7, handle=3),
        op(4, "p1", "close_sender", 11, 12, handle=7),
        op(5, "m", "close_sender", 13, 14, handle=0),
        op(6, "r", "recv", 15, 16, "disconnected"),
    )
    assert verdict(capacity, *ops) is OK
    # The receiver cannot see a disconnection while handle 7 is still open.
    assert verdict(capacity, *ops[:3], replace(ops[3], invoke=17, respond=18), *ops[4:]) is VIOLATION
    # One number handed out twice is illegal.
    assert verdict(capacity, ops[0], replace(ops[1], result=7)) is VIOLATION


def test_send_on_a_handle_no_clone_returned_is_illegal() -> None:
    finding = check_linearizable(History(None, (op(1, "p", "send", 0, 1, handle=4, value="a"),)))
    assert finding.verdict is VIOLATION and "handle 4" in finding.message


def test_cloning_a_closed_handle_is_a_usage_error() -> None:
    ops = (op(1, "p", "close_sender", 0, 1, handle=0), op(2, "p", "clone", 2, 3, "handle_closed", handle=0))
    assert verdict(None, *ops) is OK
    assert verdict(None, ops[0], replace(ops[1], status=Status.OK, result=1)) is VIOLATION


def test_malformed_histories_and_budgets_are_refused() -> None:
    with pytest.raises(HistoryError, match="handle"):
        check_linearizable(History(None, (Operation(1, "p", Kind.SEND, 0, 1, Status.OK, None, "a"),)))
    with pytest.raises(HistoryError, match="more than once"):
        check_linearizable(History(None, (op(1, "r", "try_recv", 0, 1, "empty"),) * 2))
    with pytest.raises(ValueError, match="budget"):
        check_linearizable(History(None, ()), budget=0)
    with pytest.raises(TypeError, match="budget"):
        check_linearizable(History(None, ()), budget=1.5)  # type: ignore[arg-type]
    assert check_linearizable(History(None, ())).verdict is OK


# --- running the model to make histories ---------------------------------------------------------

STATUS_OF = {kind: Status(kind.name.lower()) for kind in ErrorKind}


def recorded(outcome: Outcome, number: dict[int, int]) -> tuple[Status, str | int | None]:
    """A model outcome as a history records it (clone numbers through ``number``)."""
    if isinstance(outcome, Got):
        assert isinstance(outcome.value, (str, int))
        return Status.OK, outcome.value
    if isinstance(outcome, NewSender):
        return Status.OK, number.setdefault(outcome.handle, 100 + 7 * outcome.handle % 31)
    if isinstance(outcome, Failed):
        return STATUS_OF[outcome.error], None
    assert isinstance(outcome, Done)
    return Status.OK, None


KINDS = list(Kind)


def model_op(kind: Kind, model_handle: int, value: str | int | None) -> Op:
    match kind:
        case Kind.SEND:
            return Send(model_handle, value)
        case Kind.SEND_TIMEOUT:
            return SendTimeout(model_handle, value)
        case Kind.TRY_SEND:
            return TrySend(model_handle, value)
        case Kind.CLONE:
            return Clone(model_handle)
        case Kind.CLOSE_SENDER:
            return CloseSender(model_handle)
        case Kind.RECV:
            return Recv()
        case Kind.RECV_TIMEOUT:
            return RecvTimeout()
        case Kind.TRY_RECV:
            return TryRecv()
    return CloseReceiver()


@st.composite
def sequential_histories(draw: st.DrawFn) -> History:
    """Run the model on random ops, one at a time: blocking ops only when they complete,
    timed ones also when they would time out (park, then cancel at once)."""
    capacity = draw(st.sampled_from(ALL_CAPS))
    state = initial(capacity)
    number: dict[int, int] = {0: 0}  # model handle -> history handle
    ops: list[Operation] = []
    for n in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(KINDS))
        if kind in (Kind.CLOSE_SENDER, Kind.CLOSE_RECEIVER) and draw(st.integers(0, 5)) != 0:
            continue  # closes are rarer, or little else would happen
        mh = draw(st.integers(0, state.next_handle - 1))
        mop = model_op(kind, mh, f"v{n}")
        if not can_complete(state, mop):
            if kind not in (Kind.SEND_TIMEOUT, Kind.RECV_TIMEOUT):
                continue
            parked = step(state, mop)
            assert isinstance(parked.outcome, Blocked)
            t = step(parked.state, Cancel(parked.outcome.ticket))
        else:
            t = step(state, mop)
        state = t.state
        status, result = recorded(t.outcome, number)
        handle = number[mh] if kind.uses_handle else None
        value = f"v{n}" if kind.is_send else None
        ops.append(Operation(n, "t", kind, 2 * n, 2 * n + 1, status, handle, value, result))
    return History(capacity, tuple(ops))


def simulate(rng: random.Random, capacity: int | None, n_ops: int, n_producers: int = 2,
             n_receivers: int = 1, stop_early: bool = False) -> History:
    """A concurrent run of the model itself: simulated threads, each call invoked, taking
    effect (possibly parking, then resumed or cancelled) and returning at distinct ticks
    chosen by a random scheduler.  Linearizable by construction.  Calls still running at
    the end (stuck, or cut off when ``stop_early``) are recorded as pending."""
    state = initial(capacity)
    number: dict[int, int] = {0: 0}
    model: dict[int, int] = {0: 0}  # history handle -> model handle
    producers = [f"p{i}" for i in range(n_producers)]
    threads = producers + [f"r{i}" for i in range(n_receivers)]
    handle_of = dict.fromkeys(producers, 0)
    phase: dict[str, tuple[str, Operation | None, Op | None, Outcome | int | None]] = {
        t: ("idle", None, None, None) for t in threads
    }
    ops: list[Operation] = []
    clock = 0
    invoked = 0
    while True:
        clock += 1
        runnable = []
        for t in threads:
            what, _, mop, extra = phase[t]
            if what == "idle" and invoked < n_ops:
                runnable.append(t)
            elif what in ("invoked", "effect"):
                runnable.append(t)
            elif what == "parked":
                assert isinstance(extra, int) and mop is not None
                if can_complete(state, Resume(extra)) or isinstance(mop, (SendTimeout, RecvTimeout)):
                    runnable.append(t)
        if not runnable or (stop_early and rng.random() < 0.03):
            break
        t = rng.choice(runnable)
        what, call, mop, extra = phase[t]
        if what == "idle":
            if t in producers:
                kind = rng.choice([Kind.SEND] * 3 + [Kind.SEND_TIMEOUT, Kind.TRY_SEND] * 2
                                  + [Kind.CLONE, Kind.CLOSE_SENDER])
                if kind is Kind.CLOSE_SENDER and rng.random() < 0.7:
                    kind = Kind.SEND
            else:
                kind = rng.choice([Kind.RECV] * 3 + [Kind.RECV_TIMEOUT, Kind.TRY_RECV] * 2 + [Kind.CLOSE_RECEIVER])
                if kind is Kind.CLOSE_RECEIVER and rng.random() < 0.8:
                    kind = Kind.RECV
            handle = handle_of[t] if kind.uses_handle else None
            value = f"{t}.{invoked}" if kind.is_send else None
            call = Operation(invoked, t, kind, clock, None, Status.PENDING, handle, value)
            mop = model_op(kind, model[handle] if handle is not None else 0, value)
            invoked += 1
            phase[t] = ("invoked", call, mop, None)
        elif what == "invoked":
            assert mop is not None
            tr = step(state, mop)
            state = tr.state
            if isinstance(tr.outcome, Blocked):
                phase[t] = ("parked", call, mop, tr.outcome.ticket)
            else:
                phase[t] = ("effect", call, mop, tr.outcome)
        elif what == "parked":
            assert isinstance(extra, int)
            timed = isinstance(mop, (SendTimeout, RecvTimeout))
            if can_complete(state, Resume(extra)) and (rng.random() < 0.8 or not timed):
                tr = step(state, Resume(extra))
            else:
                tr = step(state, Cancel(extra))
            state = tr.state
            phase[t] = ("effect", call, mop, tr.outcome)
        else:
            assert call is not None and isinstance(extra, (Done, Got, NewSender, Failed))
            status, result = recorded(extra, number)
            if isinstance(extra, NewSender):
                assert isinstance(result, int)
                model[result] = extra.handle
                handle_of[t] = result
            ops.append(replace(call, respond=clock, status=status, result=result))
            phase[t] = ("idle", None, None, None)
    for _, call, _, _ in phase.values():
        if call is not None:
            ops.append(call)
    return History(capacity, tuple(ops))


Handles = frozenset[tuple[int, int]]


# --- an exhaustive reference search, with none of the checker's reductions ---------------------------


def reference_linearizable(history: History) -> bool:
    """Every op may take effect at one point or park and later resume or (timed) cancel, at
    any point its interval allows; pending ops may do any of that or nothing, with any
    outcome.  Only Lowe's memo, which does not change what is explored."""
    ops = sorted(history.operations, key=lambda o: o.id)
    required = [o.respond is not None for o in ops]
    seen: set[object] = set()

    def expected(o: Operation, outcome: Outcome, handles: Handles) -> Handles | None:
        if o.respond is None:
            return handles
        if o.status is Status.OK:
            if o.kind is Kind.CLONE:
                if not isinstance(outcome, NewSender) or any(h == o.result for h, _ in handles):
                    return None
                assert isinstance(o.result, int)
                return handles | {(o.result, outcome.handle)}
            want: Outcome = Got(o.result) if o.kind.is_recv else Done()
        else:
            want = Failed(ErrorKind[o.status.name], o.value if o.kind.is_send else NO_VALUE)
        return handles if outcome == want else None

    def search(status: tuple[object, ...], state: State, handles: Handles) -> bool:
        if all(s == "done" for s, r in zip(status, required, strict=True) if r):
            return True
        key = (status, state, handles)
        if key in seen:
            return False
        seen.add(key)
        bound = min(o.end for o, s, r in zip(ops, status, required, strict=True) if r and s != "done")
        for i, o in enumerate(ops):
            s = status[i]
            if s == "done" or o.invoke > bound:
                continue
            moves: list[tuple[object, State, Outcome]] = []
            if s == "new":
                mapped = dict(handles).get(o.handle) if o.handle is not None else 0
                if mapped is None:
                    continue
                t = step(state, model_op(o.kind, mapped, o.value))
                if isinstance(t.outcome, Blocked):
                    moves.append((t.outcome.ticket, t.state, t.outcome))
                else:
                    moves.append(("done", t.state, t.outcome))
            else:
                assert isinstance(s, int)
                if can_complete(state, Resume(s)):
                    t = step(state, Resume(s))
                    moves.append(("done", t.state, t.outcome))
                if o.kind in (Kind.SEND_TIMEOUT, Kind.RECV_TIMEOUT):
                    t = step(state, Cancel(s))
                    moves.append(("done", t.state, t.outcome))
            for new, after, outcome in moves:
                nh = handles if new != "done" else expected(o, outcome, handles)
                if nh is not None and search(status[:i] + (new,) + status[i + 1:], after, nh):
                    return True
        return False

    return search(("new",) * len(ops), initial(history.capacity), frozenset({(0, 0)}))


# --- property tests ------------------------------------------------------------------------------------

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(sequential_histories())
def test_sequential_runs_of_the_model_are_linearizable(history: History) -> None:
    finding = check_linearizable(history)
    assert finding.verdict is OK, finding.message


def perturbations(history: History) -> list[tuple[int, Operation]]:
    """Single-outcome changes that the model, being deterministic, can never agree with."""
    sent = sorted({o.value for o in history.operations if o.kind.is_send and o.value is not None}, key=str)
    out: list[tuple[int, Operation]] = []
    for i, o in enumerate(history.operations):
        if o.kind.is_recv and o.status is Status.OK:
            out += [(i, replace(o, result=v)) for v in sent if v != o.result]
            out.append((i, replace(o, result="phantom")))
            if o.kind is Kind.TRY_RECV:
                out.append((i, replace(o, status=Status.EMPTY, result=None)))
        elif o.kind is Kind.TRY_RECV and o.status is Status.EMPTY:
            out += [(i, replace(o, status=Status.OK, result=v)) for v in [*sent, "phantom"]]
        elif o.kind is Kind.TRY_SEND and o.status in (Status.OK, Status.FULL):
            out.append((i, replace(o, status=Status.FULL if o.status is Status.OK else Status.OK)))
    return out


@FAST
@given(sequential_histories(), st.randoms(use_true_random=False))
def test_a_perturbed_sequential_run_is_rejected(history: History, rng: random.Random) -> None:
    candidates = perturbations(history)
    assume(candidates)
    i, changed = rng.choice(candidates)
    ops = list(history.operations)
    ops[i] = changed
    finding = check_linearizable(History(history.capacity, tuple(ops)))
    if len(ops) < 12:
        assert finding.verdict is VIOLATION, finding.message
        assert finding.operations and finding.message.startswith("not linearizable")
    else:
        assert finding.verdict is not OK


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.sampled_from(ALL_CAPS), st.integers(8, 24), st.booleans())
def test_concurrent_runs_of_the_model_are_linearizable(rng: random.Random, capacity: int | None,
                                                       n_ops: int, stop_early: bool) -> None:
    history = simulate(rng, capacity, n_ops, n_producers=rng.randint(1, 3), n_receivers=rng.choice([1, 1, 2]),
                       stop_early=stop_early)
    finding = check_linearizable(history)
    assert finding.verdict is OK, finding.message


def mutate(rng: random.Random, history: History) -> History:
    """One to three random changes: an outcome perturbed, an interval shrunk (moving a
    response earlier), or a status replaced by another failure."""
    ops = list(history.operations)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(ops))
        o = ops[i]
        r = rng.random()
        if r < 0.4 and o.respond is not None:
            ops[i] = replace(o, respond=o.invoke + (o.respond - o.invoke) * rng.random())
        elif r < 0.7:
            candidates = perturbations(History(history.capacity, tuple(ops)))
            if candidates:
                j, changed = rng.choice(candidates)
                ops[j] = changed
        elif o.respond is not None:
            failure = rng.choice([s for s in Status if s not in (Status.OK, Status.PENDING)])
            ops[i] = replace(o, status=failure, result=None)
    return History(history.capacity, tuple(ops))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.sampled_from(ALL_CAPS), st.integers(2, 8), st.booleans())
def test_the_checker_agrees_with_an_exhaustive_reference_search(rng: random.Random, capacity: int | None,
                                                                n_ops: int, perturb: bool) -> None:
    history = simulate(rng, capacity, n_ops, n_producers=rng.randint(1, 3), n_receivers=rng.choice([1, 1, 2]),
                       stop_early=rng.random() < 0.3)
    if perturb and history.operations:
        history = mutate(rng, history)
    expected = reference_linearizable(history)
    finding = check_linearizable(history)
    assert finding.verdict is (OK if expected else VIOLATION), (finding.message, history)


def test_a_tiny_budget_gives_an_honest_unknown() -> None:
    history = simulate(random.Random(7), 0, 24, n_producers=3)
    assert check_linearizable(history).verdict is OK
    finding = check_linearizable(history, budget=10)
    assert finding.verdict is UNKNOWN and not finding.ok
    assert "ran out of its budget of 10 steps" in finding.message
    assert "10 steps spent" in finding.message
    # Where it stopped: a linearizable prefix, as far as it got.
    assert len(finding.operations) < len(history.operations)
    assert check_linearizable(history, budget=10_000).verdict is OK
