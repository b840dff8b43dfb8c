"""Tests of the pure model (``spec._model``) and of the contract helpers it relies on.

Organised by the numbered rules of the semantics (1-12): every test that pins down a rule
has ``ruleN`` in its name.  Each drives the model through :func:`replay` or :func:`step`
and asserts the exact outcomes and, where it says something, the :class:`Rule` that
decided the transition.  The sequential model stands in for threads: an op that returns
``Blocked(ticket)`` is a thread parked until ``Resume(ticket)`` or ``Cancel(ticket)``.

At the end, a Hypothesis property test runs random valid op sequences and checks the
invariants (bounds, exactly-once, no phantoms, no loss, FIFO, synchronisation, purity).
"""

from __future__ import annotations

import copy
import math
import pickle
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spec._model as model_module
from spec import (
    ALL_CAPACITIES,
    FIRST_SENDER,
    NO_VALUE,
    Blocked,
    Cancel,
    Capacities,
    ChannelError,
    Clone,
    CloseReceiver,
    CloseSender,
    Disconnected,
    Done,
    Empty,
    ErrorKind,
    Failed,
    Full,
    Got,
    HandleClosed,
    InvalidOp,
    NewSender,
    Recv,
    RecvTimeout,
    Resume,
    Rule,
    Send,
    SendTimeout,
    State,
    Timeout,
    Transition,
    TryRecv,
    TrySend,
    can_complete,
    initial,
    replay,
    step,
    validate_capacity,
    validate_timeout,
)

# --- helpers -------------------------------------------------------------------------------

ALL_CAPS = [None, 0, 1, 3]  # unbounded, rendezvous, bounded
BUFFERED_CAPS = [None, 1, 3]  # a send that returns leaves its value in a buffer
BOUNDED_CAPS = [1, 2, 5]
BLOCKING_CAPS = [0, 1, 2]  # capacities where a send can block

DISCONNECTED = ErrorKind.DISCONNECTED
EMPTY = ErrorKind.EMPTY
FULL = ErrorKind.FULL
TIMEOUT = ErrorKind.TIMEOUT
HANDLE_CLOSED = ErrorKind.HANDLE_CLOSED


def outcomes(ts: list[Transition]) -> list[object]:
    return [t.outcome for t in ts]


def rules(ts: list[Transition]) -> list[Rule]:
    return [t.rule for t in ts]


def fill(k: int, handle: int = FIRST_SENDER, prefix: str = "m") -> list[Send]:
    """k sends that fill a bounded-k channel (values m0, m1, ...)."""
    return [Send(handle, f"{prefix}{i}") for i in range(k)]


def state_after(capacity: int | None, ops: list) -> State:
    return replay(capacity, ops)[-1].state if ops else initial(capacity)


def mentions(state: State, token: object) -> bool:
    """Whether the state still holds a reference to ``token`` anywhere."""
    if any(m is token for m in state.buffer):
        return True
    for w in state.waiters:
        if getattr(w.op, "value", NO_VALUE) is token:
            return True
        if getattr(w.resolution, "value", NO_VALUE) is token:
            return True
    return False


def drain(state: State) -> tuple[list[object], Transition]:
    """``for v in rx`` on one thread: Recv until it fails (it must never block here)."""
    got = []
    while True:
        t = step(state, Recv())
        assert not isinstance(t.outcome, Blocked), "iteration would block forever"
        state = t.state
        if isinstance(t.outcome, Failed):
            return got, t
        got.append(t.outcome.value)


# --- rule 1: unbounded ------------------------------------------------------------------


def test_rule1_unbounded_send_never_blocks():
    ts = replay(None, [Send(0, i) for i in range(1000)])
    assert outcomes(ts) == [Done()] * 1000
    assert set(rules(ts)) == {Rule.UNBOUNDED}
    assert ts[-1].state.buffer == tuple(range(1000))
    assert ts[-1].state.waiters == ()


@pytest.mark.parametrize("make", [Send, SendTimeout, TrySend])
def test_rule1_unbounded_every_send_kind_from_every_clone_completes(make):
    ops = [Clone(0), Clone(1)] + [make(h, (h, i)) for i in range(50) for h in (0, 1, 2)]
    ts = replay(None, ops)
    assert outcomes(ts[:2]) == [NewSender(1), NewSender(2)]
    assert outcomes(ts[2:]) == [Done()] * 150
    assert set(rules(ts[2:])) == {Rule.UNBOUNDED}
    assert can_complete(ts[-1].state, make(0, "more"))


def test_rule1_unbounded_receives_in_send_order():
    ts = replay(None, [Send(0, "a"), Send(0, "b"), Recv(), TryRecv(), RecvTimeout()])
    assert outcomes(ts[2:4]) == [Got("a"), Got("b")]
    assert rules(ts[2:4]) == [Rule.UNBOUNDED, Rule.UNBOUNDED]
    assert ts[4].outcome == Blocked(0)  # nothing left: a receive parks


def test_rule1_unbounded_empty_receive_is_not_attributed_to_rule2():
    empty, parked = replay(None, [TryRecv(), Recv()])
    assert empty.outcome == Failed(EMPTY)
    assert parked.outcome == Blocked(0)
    assert empty.rule is Rule.UNBOUNDED
    assert parked.rule is Rule.UNBOUNDED


# --- rule 2: bounded k ----------------------------------------------------------------------


@pytest.mark.parametrize("k", BOUNDED_CAPS)
def test_rule2_bounded_at_most_k_buffered_then_try_send_full(k):
    ts = replay(k, fill(k) + [TrySend(0, "extra")])
    assert outcomes(ts[:k]) == [Done()] * k
    assert set(rules(ts[:k])) == {Rule.BOUNDED}
    full = ts[k]
    assert full.outcome == Failed(FULL, "extra")
    assert full.rule is Rule.BOUNDED
    assert full.state == ts[k - 1].state  # a Full try_send changes nothing
    assert len(full.state.buffer) == k


@pytest.mark.parametrize("k", BOUNDED_CAPS)
@pytest.mark.parametrize("make", [Send, SendTimeout])
def test_rule2_bounded_send_blocks_while_full_and_resumes_when_a_slot_frees(k, make):
    ts = replay(k, fill(k) + [make(0, "late")])
    blocked = ts[-1]
    assert blocked.outcome == Blocked(0)
    assert blocked.rule is Rule.BOUNDED
    assert blocked.state.buffer == ts[-2].state.buffer  # the value is not buffered yet
    assert not can_complete(blocked.state, Resume(0))
    with pytest.raises(InvalidOp):
        step(blocked.state, Resume(0))
    took = step(blocked.state, TryRecv())
    assert took.outcome == Got("m0")
    assert took.rule is Rule.BOUNDED
    assert can_complete(took.state, Resume(0))
    resumed = step(took.state, Resume(0))
    assert resumed.outcome == Done()
    assert resumed.rule is Rule.BOUNDED
    assert resumed.state.buffer == tuple(f"m{i}" for i in range(1, k)) + ("late",)
    assert resumed.state.waiters == ()


@pytest.mark.parametrize("k", BOUNDED_CAPS)
def test_rule2_bounded_fifo(k):
    ops = [Send(0, i) for i in range(k)]
    for i in range(k, 3 * k):  # keep it full: one out, one in
        ops += [TryRecv(), Send(0, i)]
    ops += [TryRecv()] * k + [TryRecv()]
    ts = replay(k, ops)
    assert Blocked not in {type(o) for o in outcomes(ts)}
    got = [o.value for o in outcomes(ts) if isinstance(o, Got)]
    assert got == list(range(3 * k))
    assert ts[-1].outcome == Failed(EMPTY)


@pytest.mark.parametrize("k", BOUNDED_CAPS)
def test_rule2_bounded_try_recv_on_empty_is_empty(k):
    (t,) = replay(k, [TryRecv()])
    assert t.outcome == Failed(EMPTY)
    assert t.outcome.value is NO_VALUE
    assert t.rule is Rule.BOUNDED


@pytest.mark.parametrize("k", BOUNDED_CAPS)
def test_rule2_bounded_recv_blocks_on_empty_until_a_send(k):
    ts = replay(k, [Recv()])
    assert ts[0].outcome == Blocked(0)
    assert not can_complete(ts[0].state, Resume(0))
    sent = step(ts[0].state, Send(0, "x"))
    assert sent.outcome == Done() and sent.rule is Rule.BOUNDED
    assert can_complete(sent.state, Resume(0))
    got = step(sent.state, Resume(0))
    assert got.outcome == Got("x")
    assert got.rule is Rule.BOUNDED
    assert got.state.buffer == () and got.state.waiters == ()


# --- rule 3: rendezvous -------------------------------------------------------------------


def test_rule3_rendezvous_try_send_without_waiting_receiver_is_full():
    (t,) = replay(0, [TrySend(0, "v")])
    assert t.outcome == Failed(FULL, "v")
    assert t.rule is Rule.RENDEZVOUS
    assert t.state == initial(0)


def test_rule3_rendezvous_try_recv_without_waiting_sender_is_empty():
    (t,) = replay(0, [TryRecv()])
    assert t.outcome == Failed(EMPTY)
    assert t.rule is Rule.RENDEZVOUS
    assert t.state == initial(0)


@pytest.mark.parametrize("make", [Send, SendTimeout])
@pytest.mark.parametrize("receive", [TryRecv, Recv, RecvTimeout])
def test_rule3_rendezvous_send_completes_only_once_a_receiver_takes_that_value(make, receive):
    blocked, took, resumed = replay(0, [make(0, "v"), receive(), Resume(0)])
    assert blocked.outcome == Blocked(0)
    assert blocked.rule is Rule.RENDEZVOUS
    assert blocked.state.buffer == ()
    assert [w.op for w in blocked.state.offers()] == [make(0, "v")]
    assert not can_complete(blocked.state, Resume(0))
    assert took.outcome == Got("v")  # a waiting sender: receive completes at once
    assert took.rule is Rule.RENDEZVOUS
    assert took.state.waiter(0).resolution == Done()
    assert took.state.offers() == ()
    assert resumed.outcome == Done()
    assert resumed.rule is Rule.RENDEZVOUS
    assert resumed.state == State(capacity=0, next_ticket=1)


@pytest.mark.parametrize("send", [TrySend, Send, SendTimeout])
@pytest.mark.parametrize("receive", [Recv, RecvTimeout])
def test_rule3_rendezvous_send_hands_over_to_a_waiting_receiver(send, receive):
    parked, handed, resumed = replay(0, [receive(), send(0, "v"), Resume(0)])
    assert parked.outcome == Blocked(0)
    assert parked.rule is Rule.RENDEZVOUS
    assert handed.outcome == Done()
    assert handed.rule is Rule.RENDEZVOUS
    assert handed.state.waiter(0).resolution == Got("v")
    assert handed.state.waiting_receivers() == ()
    assert resumed.outcome == Got("v")
    assert resumed.rule is Rule.RENDEZVOUS
    assert resumed.state.waiters == ()


def test_rule3_rendezvous_nothing_is_ever_buffered():
    ops = [Clone(0), Send(0, "a"), Send(1, "b"), TryRecv(), Recv(), Recv(), TrySend(1, "c")]
    ops += [Resume(0), Resume(1), Resume(2), TrySend(0, "d"), CloseSender(0), CloseSender(1)]
    for t in replay(0, ops):
        assert t.state.buffer == ()


def test_rule3_rendezvous_receive_takes_the_oldest_offer():
    ts = replay(0, [Clone(0), Send(1, "first"), Send(0, "second"), TryRecv(), TryRecv()])
    assert outcomes(ts[3:]) == [Got("first"), Got("second")]


def test_rule3_rendezvous_send_hands_to_the_oldest_waiting_receiver():
    ts = replay(0, [Recv(), RecvTimeout(), TrySend(0, "a"), TrySend(0, "b")])
    state = ts[-1].state
    assert state.waiter(0).resolution == Got("a")
    assert state.waiter(1).resolution == Got("b")


# --- rule 4: clone ---------------------------------------------------------------------------


def test_rule4_clone_gives_new_numbered_handles():
    ts = replay(1, [Clone(0), Clone(1), Clone(0)])
    assert outcomes(ts) == [NewSender(1), NewSender(2), NewSender(3)]
    assert set(rules(ts)) == {Rule.CLONE}
    assert ts[-1].state.senders == frozenset({0, 1, 2, 3})
    assert ts[-1].state.next_handle == 4


@pytest.mark.parametrize("cap", ALL_CAPS)
def test_rule4_each_clone_must_be_closed_separately(cap):
    ts = replay(cap, [Clone(0), CloseSender(0), TryRecv(), Recv()])
    assert ts[1].outcome == Done()
    assert not ts[1].state.disconnected
    assert ts[2].outcome == Failed(EMPTY)  # not Disconnected: clone 1 still open
    assert ts[3].outcome == Blocked(0)
    closed = step(ts[3].state, CloseSender(1))
    assert closed.state.disconnected
    woken = step(closed.state, Resume(0))
    assert woken.outcome == Failed(DISCONNECTED)
    assert woken.rule is Rule.SENDER_CLOSE


@pytest.mark.parametrize("cap", BUFFERED_CAPS)
def test_rule4_clone_survives_closing_the_original(cap):
    ts = replay(cap, [Clone(0), CloseSender(0), TrySend(1, "x"), TryRecv()])
    assert outcomes(ts[2:]) == [Done(), Got("x")]


@pytest.mark.parametrize("cap", ALL_CAPS)
def test_rule4_cloning_a_closed_handle_is_the_usage_error(cap):
    ts = replay(cap, [Clone(0), CloseSender(1), Clone(1)])
    assert ts[2].outcome == Failed(HANDLE_CLOSED)
    assert ts[2].outcome.value is NO_VALUE
    assert ts[2].rule is Rule.USAGE
    assert ts[2].state == ts[1].state  # no handle was created


@pytest.mark.parametrize("cap", ALL_CAPS)
@pytest.mark.parametrize("make", [Send, SendTimeout, TrySend])
def test_rule4_cloning_while_the_receiver_is_gone_is_allowed_and_its_sends_fail(cap, make):
    ts = replay(cap, [CloseReceiver(), Clone(0), make(1, "v")])
    assert ts[1].outcome == NewSender(1)
    assert ts[1].rule is Rule.CLONE
    assert ts[2].outcome == Failed(DISCONNECTED, "v")
    assert ts[2].rule is Rule.RECEIVER_CLOSE


# --- rule 5: sender close / disconnect -------------------------------------------------------


@pytest.mark.parametrize("cap", ALL_CAPS)
@pytest.mark.parametrize("receive", [TryRecv, Recv, RecvTimeout])
def test_rule5_last_sender_close_disconnects(cap, receive):
    closed, received = replay(cap, [CloseSender(0), receive()])
    assert closed.outcome == Done()
    assert closed.rule is Rule.SENDER_CLOSE
    assert closed.state.disconnected
    assert received.outcome == Failed(DISCONNECTED)  # never Blocked, never Empty
    assert received.outcome.value is NO_VALUE
    assert received.rule is Rule.SENDER_CLOSE


@pytest.mark.parametrize("cap", BUFFERED_CAPS)
def test_rule5_buffer_drains_before_disconnected(cap):
    n = 1 if cap == 1 else 3
    ts = replay(cap, fill(n) + [CloseSender(0)])
    got, last = drain(ts[-1].state)
    assert got == [f"m{i}" for i in range(n)]
    assert last.outcome == Failed(DISCONNECTED)
    assert last.rule is Rule.SENDER_CLOSE


@pytest.mark.parametrize("cap", ALL_CAPS)
@pytest.mark.parametrize("receive", [Recv, RecvTimeout])
def test_rule5_blocked_recv_wakes_with_disconnected(cap, receive):
    parked, closed, woken = replay(cap, [receive(), CloseSender(0), Resume(0)])
    assert parked.outcome == Blocked(0)
    assert not can_complete(parked.state, Resume(0))
    assert can_complete(closed.state, Resume(0))
    assert woken.outcome == Failed(DISCONNECTED)
    assert woken.rule is Rule.SENDER_CLOSE
    assert woken.state.waiters == ()


@pytest.mark.parametrize("cap", ALL_CAPS)
def test_rule5_sender_close_is_idempotent(cap):
    first, second = replay(cap, [CloseSender(0), CloseSender(0)])
    assert outcomes([first, second]) == [Done(), Done()]
    assert second.rule is Rule.SENDER_CLOSE
    assert second.state == first.state


def test_rule5_rendezvous_offer_from_another_handle_survives_a_close():
    ts = replay(0, [Clone(0), Send(1, "v"), CloseSender(0), TryRecv(), Resume(0)])
    assert ts[2].state.waiter(0).resolution is None
    assert outcomes(ts[3:]) == [Got("v"), Done()]


@pytest.mark.parametrize("cap", BUFFERED_CAPS)
def test_rule5_iteration_ends_at_disconnection(cap):
    ts = replay(cap, [Clone(0), Send(0, "a"), CloseSender(0), Send(1, "b")])
    if cap == 1:
        assert ts[-1].outcome == Blocked(0)
        state = step(step(ts[-1].state, TryRecv()).state, Resume(0)).state
        expected = ["b"]
    else:
        state = ts[-1].state
        expected = ["a", "b"]
    state = step(state, CloseSender(1)).state
    got, last = drain(state)
    assert got == expected
    assert last.outcome == Failed(DISCONNECTED)


# --- rule 6: receiver close --------------------------------------------------------------------


@pytest.mark.parametrize("cap", ALL_CAPS)
@pytest.mark.parametrize("make", [Send, SendTimeout, TrySend])
def test_rule6_send_after_receiver_close_gets_its_value_back(cap, make):
    closed, sent = replay(cap, [CloseReceiver(), make(0, "v")])
    assert closed.outcome == Done()
    assert closed.rule is Rule.RECEIVER_CLOSE
    assert sent.outcome == Failed(DISCONNECTED, "v")
    assert sent.rule is Rule.RECEIVER_CLOSE
    assert sent.state == closed.state


@pytest.mark.parametrize("cap", BUFFERED_CAPS)
def test_rule6_receiver_close_discards_the_buffer(cap):
    ts = replay(cap, fill(1) + [CloseReceiver()])
    assert ts[0].state.buffer == ("m0",)
    assert ts[-1].state.buffer == ()
    assert not mentions(ts[-1].state, "m0")


@pytest.mark.parametrize("cap", BLOCKING_CAPS)
@pytest.mark.parametrize("make", [Send, SendTimeout])
def test_rule6_blocked_senders_wake_with_disconnected_carrying_their_value(cap, make):
    ops = fill(cap) + [Clone(0), make(0, "x"), make(1, "y"), CloseReceiver(), Resume(1), Resume(0)]
    ts = replay(cap, ops)
    assert outcomes(ts[cap + 1 : cap + 3]) == [Blocked(0), Blocked(1)]
    closed = ts[cap + 3]
    assert closed.state.waiter(0).resolution == Failed(DISCONNECTED, "x")
    assert closed.state.waiter(1).resolution == Failed(DISCONNECTED, "y")
    assert outcomes(ts[-2:]) == [Failed(DISCONNECTED, "y"), Failed(DISCONNECTED, "x")]
    assert rules(ts[-2:]) == [Rule.RECEIVER_CLOSE, Rule.RECEIVER_CLOSE]
    assert ts[-1].state.waiters == () and ts[-1].state.buffer == ()


@pytest.mark.parametrize("cap", ALL_CAPS)
def test_rule6_receiver_close_is_idempotent(cap):
    first, second = replay(cap, [CloseReceiver(), CloseReceiver()])
    assert outcomes([first, second]) == [Done(), Done()]
    assert second.rule is Rule.RECEIVER_CLOSE
    assert second.state == first.state


@pytest.mark.parametrize("cap", ALL_CAPS)
@pytest.mark.parametrize("receive", [TryRecv, Recv, RecvTimeout])
def test_rule6_receive_after_the_receiver_closed_is_the_usage_error(cap, receive):
    ts = replay(cap, fill(0 if cap == 0 else 1) + [CloseReceiver(), receive()])
    assert ts[-1].outcome == Failed(HANDLE_CLOSED)
    assert ts[-1].outcome.value is NO_VALUE
    assert ts[-1].rule is Rule.USAGE


# --- rule 7: precedence ---------------------------------------------------------------------


@pytest.mark.parametrize("cap", BUFFERED_CAPS)
@pytest.mark.parametrize("receive", [TryRecv, Recv, RecvTimeout])
def test_rule7_buffered_message_has_precedence_over_disconnected(cap, receive):
    ts = replay(cap, [Send(0, "last"), CloseSender(0), receive(), receive()])
    assert ts[2].outcome == Got("last")
    assert ts[2].rule is Rule.PRECEDENCE
    assert ts[3].outcome == Failed(DISCONNECTED)
    assert ts[3].rule is Rule.SENDER_CLOSE


@pytest.mark.parametrize("cap", [0, *BOUNDED_CAPS])
def test_rule7_try_send_on_full_channel_whose_receiver_is_gone_is_disconnected(cap):
    ts = replay(cap, fill(cap) + [TrySend(0, "x"), CloseReceiver(), TrySend(0, "y")])
    assert ts[cap].outcome == Failed(FULL, "x")  # full while the receiver lives
    assert ts[-1].outcome == Failed(DISCONNECTED, "y")  # Disconnected, not Full
    assert ts[-1].rule is Rule.RECEIVER_CLOSE


@pytest.mark.parametrize("cap", ALL_CAPS)
@pytest.mark.parametrize("make", [Send, SendTimeout, TrySend])
def test_rule7_usage_error_comes_before_disconnected(cap, make):
    ts = replay(cap, [Clone(0), CloseSender(0), CloseReceiver(), make(0, "v")])
    assert ts[-1].outcome == Failed(HANDLE_CLOSED, "v")
    assert ts[-1].rule is Rule.USAGE
    assert ts[-1].state == ts[-2].state


# --- rule 8: ok does not mean delivered -----------------------------------------------------------


@pytest.mark.parametrize("cap", BUFFERED_CAPS)
def test_rule8_a_returned_buffered_send_may_still_be_discarded(cap):
    sent, closed = replay(cap, [Send(0, "v"), CloseReceiver()])
    assert sent.outcome == Done()
    assert closed.state.buffer == ()


def test_rule8_a_returned_rendezvous_send_was_taken_even_if_the_receiver_then_closes():
    ts = replay(0, [Send(0, "v"), TryRecv(), CloseReceiver(), Resume(0)])
    assert ts[1].outcome == Got("v")
    assert ts[-1].outcome == Done()
    assert ts[-1].rule is Rule.RENDEZVOUS


# --- rule 9: values are opaque tokens, delivered exactly once ----------------------------------

OPAQUE_TOKENS = [None, 0, False, "", (), ("a", 1), frozenset({1}), ValueError("as a message")]


@pytest.mark.parametrize("cap", ALL_CAPS)
@pytest.mark.parametrize("token", OPAQUE_TOKENS, ids=repr)
def test_rule9_any_token_is_delivered_as_the_same_object(cap, token):
    if cap == 0:
        ts = replay(0, [Send(0, token), TryRecv(), Resume(0)])
        got = ts[1].outcome
    else:
        ts = replay(cap, [Send(0, token), TryRecv()])
        got = ts[-1].outcome
    assert isinstance(got, Got)
    assert got.value is token
    assert not mentions(ts[-1].state, token)  # the model keeps no reference after delivery


@pytest.mark.parametrize("cap", ALL_CAPS)
def test_rule9_token_is_delivered_exactly_once(cap):
    if cap == 0:
        ts = replay(0, [Send(0, "v"), TryRecv(), TryRecv(), Resume(0), TryRecv()])
        assert outcomes(ts) == [Blocked(0), Got("v"), Failed(EMPTY), Done(), Failed(EMPTY)]
    else:
        ts = replay(cap, [Send(0, "v"), TryRecv(), TryRecv()])
        assert outcomes(ts) == [Done(), Got("v"), Failed(EMPTY)]


@pytest.mark.parametrize("cap", [None, 3])
def test_rule9_equal_tokens_are_not_merged(cap):
    ts = replay(cap, [Send(0, "x"), Send(0, "x"), TryRecv(), TryRecv(), TryRecv()])
    assert outcomes(ts[2:]) == [Got("x"), Got("x"), Failed(EMPTY)]


@pytest.mark.parametrize("cap", [0, 1])
def test_rule9_none_is_a_value_and_distinct_from_no_value(cap):
    ts = replay(cap, fill(cap) + [TrySend(0, None), TryRecv()])
    assert ts[cap].outcome == Failed(FULL, None)
    assert ts[cap].outcome.value is None
    if cap == 0:
        assert ts[-1].outcome == Failed(EMPTY)
        assert ts[-1].outcome.value is NO_VALUE
        assert ts[-1].outcome != Failed(EMPTY, None)


@pytest.mark.parametrize("cap", BLOCKING_CAPS)
def test_rule9_failed_and_cancelled_sends_drop_their_reference(cap):
    token = ("tok",)
    ts = replay(cap, fill(cap) + [SendTimeout(0, token), Cancel(0)])
    assert ts[-1].outcome == Failed(TIMEOUT, token)
    assert ts[-1].outcome.value is token
    assert not mentions(ts[-1].state, token)
    ts = replay(cap, fill(cap) + [Send(0, token), CloseReceiver(), Resume(0)])
    assert ts[-1].outcome.value is token
    assert not mentions(ts[-1].state, token)


# --- rule 10: per-producer order (sequentially) --------------------------------------------------


@pytest.mark.parametrize("cap", [None, 2, 6])
def test_rule10_per_producer_fifo_with_interleaved_producers(cap):
    ops = [Clone(0)]
    for i in range(3):
        ops += [Send(0, ("p0", i)), Send(1, ("p1", i))]
        if cap == 2:  # keep the two-slot buffer from filling up
            ops += [TryRecv(), TryRecv()]
    ops += [TryRecv()] * 6
    ts = replay(cap, ops)
    assert not any(isinstance(o, Blocked) for o in outcomes(ts))
    got = [o.value for o in outcomes(ts) if isinstance(o, Got)]
    for producer in ("p0", "p1"):
        assert [i for p, i in got if p == producer] == [0, 1, 2]
    assert got == [(p, i) for i in range(3) for p in ("p0", "p1")]  # real-time FIFO


@pytest.mark.parametrize("k", BOUNDED_CAPS)
def test_rule10_a_producers_blocked_send_lands_after_its_earlier_sends(k):
    ts = replay(k, fill(k) + [Send(0, "late"), TryRecv(), Resume(0)])
    got, _ = drain(step(ts[-1].state, CloseSender(0)).state)
    assert got == [f"m{i}" for i in range(1, k)] + ["late"]


def test_rule10_rendezvous_sequential_sends_of_one_producer_arrive_in_order():
    ops = []
    for i in range(4):
        ops += [Send(0, i), Recv(), Resume(i)]
    ts = replay(0, ops)
    assert [o.value for o in outcomes(ts) if isinstance(o, Got)] == [0, 1, 2, 3]


# --- rule 11: synchronisation (as far as the sequential model shows it) --------------------------


@pytest.mark.parametrize("make", [Send, SendTimeout])
def test_rule11_rendezvous_send_stays_blocked_until_a_receive(make):
    state = step(initial(0), make(0, "v")).state
    # nothing but a receive lets it complete: other senders, try_sends, closes of others
    for op in [Clone(0), TrySend(1, "w"), Send(1, "z"), CloseSender(1), Clone(0)]:
        state = step(state, op).state
        assert not can_complete(state, Resume(0))
        assert state.waiter(0).resolution is None
    took = step(state, TryRecv())
    assert took.outcome == Got("v")
    assert can_complete(took.state, Resume(0))
    assert step(took.state, Resume(0)).outcome == Done()


@pytest.mark.parametrize("cap", [0, *BOUNDED_CAPS])
def test_rule11_kth_receive_begins_before_the_k_plus_c_th_send_completes(cap):
    state = initial(cap)
    completed = received = 0
    for i in range(3 * cap + 4):
        t = step(state, Send(0, i))
        state = t.state
        if isinstance(t.outcome, Blocked):
            assert not can_complete(state, Resume(t.outcome.ticket))
            t = step(state, TryRecv())  # the receive begins ...
            assert t.outcome == Got(received)
            received += 1
            state = t.state
            t = step(state, Resume(t.state.waiters[0].ticket))  # ... then the send completes
            state = t.state
        assert t.outcome == Done()
        completed += 1
        assert completed <= received + cap


# --- rule 12: handles in flight (the documented choices) -----------------------------------------


@pytest.mark.parametrize("cap", BLOCKING_CAPS)
@pytest.mark.parametrize("finish", [Resume, Cancel])
def test_rule12_closing_a_sender_wakes_the_send_blocked_through_it(cap, finish):
    ops = fill(cap) + [SendTimeout(0, "v"), CloseSender(0), finish(0)]
    ts = replay(cap, ops)
    closed, woken = ts[-2], ts[-1]
    assert closed.outcome == Done()
    assert closed.rule is Rule.SENDER_CLOSE
    assert closed.state.waiter(0).resolution == Failed(HANDLE_CLOSED, "v")
    assert closed.state.disconnected  # that was the last sender
    assert woken.outcome == Failed(HANDLE_CLOSED, "v")  # not Timeout: it was already woken
    assert woken.rule is Rule.IN_FLIGHT
    got, last = drain(woken.state)
    assert got == [f"m{i}" for i in range(cap)]  # "v" was never delivered
    assert last.outcome == Failed(DISCONNECTED)


@pytest.mark.parametrize("cap", BLOCKING_CAPS)
def test_rule12_closing_a_handle_wakes_only_sends_through_that_handle(cap):
    ts = replay(cap, fill(cap) + [Clone(0), Send(1, "w"), Send(0, "v"), CloseSender(0)])
    state = ts[-1].state
    assert state.waiter(0).resolution is None
    assert state.waiter(1).resolution == Failed(HANDLE_CLOSED, "v")
    assert not state.disconnected


def test_rule12_a_send_that_already_completed_stays_completed_when_its_handle_closes():
    ts = replay(0, [Send(0, "v"), TryRecv(), CloseSender(0), Resume(0)])
    assert ts[1].outcome == Got("v")
    assert ts[2].state.waiter(0).resolution == Done()
    assert ts[-1].outcome == Done()
    assert ts[-1].rule is Rule.RENDEZVOUS


@pytest.mark.parametrize("cap", ALL_CAPS)
@pytest.mark.parametrize("finish", [Resume, Cancel])
def test_rule12_receiver_close_wakes_a_blocked_recv_with_handle_closed(cap, finish):
    parked, closed, woken = replay(cap, [RecvTimeout(), CloseReceiver(), finish(0)])
    assert parked.outcome == Blocked(0)
    assert closed.state.waiter(0).resolution == Failed(HANDLE_CLOSED)
    assert woken.outcome == Failed(HANDLE_CLOSED)
    assert woken.outcome.value is NO_VALUE
    assert woken.rule is Rule.IN_FLIGHT


@pytest.mark.parametrize("k", BOUNDED_CAPS)
def test_rule12_receiver_close_wakes_blocked_receivers_and_blocked_senders_differently(k):
    # bounded: a receive parked on the empty buffer is still parked when later sends fill
    # it and one more send parks; one receiver close wakes both, each its own way
    ts = replay(k, [Recv()] + fill(k) + [Send(0, "v"), CloseReceiver(), Resume(1), Resume(0)])
    assert ts[0].outcome == Blocked(0) and ts[k + 1].outcome == Blocked(1)
    closed = ts[k + 2].state
    assert closed.waiter(0).resolution == Failed(HANDLE_CLOSED)
    assert closed.waiter(1).resolution == Failed(DISCONNECTED, "v")
    assert closed.buffer == ()
    assert outcomes(ts[-2:]) == [Failed(DISCONNECTED, "v"), Failed(HANDLE_CLOSED)]
    assert rules(ts[-2:]) == [Rule.RECEIVER_CLOSE, Rule.IN_FLIGHT]


def test_rule12_two_threads_receiving_rendezvous_each_message_once_oldest_receiver_first():
    ts = replay(0, [Recv(), Recv(), Send(0, "a"), Send(0, "b"), Resume(1), Resume(0), TryRecv()])
    assert outcomes(ts[2:4]) == [Done(), Done()]
    assert outcomes(ts[4:]) == [Got("b"), Got("a"), Failed(EMPTY)]


@pytest.mark.parametrize("cap", BUFFERED_CAPS)
def test_rule12_two_threads_receiving_buffered_each_message_once(cap):
    ts = replay(cap, [Recv(), Recv(), Send(0, "a")])
    state = ts[-1].state
    assert can_complete(state, Resume(0)) and can_complete(state, Resume(1))
    first = step(state, Resume(1))  # whichever resumes first takes it
    assert first.outcome == Got("a")
    assert not can_complete(first.state, Resume(0))
    second = step(step(first.state, Send(0, "b")).state, Resume(0))
    assert second.outcome == Got("b")
    assert second.state.waiters == () and second.state.buffer == ()


@pytest.mark.parametrize("cap", BLOCKING_CAPS)
def test_rule12_two_threads_sending_through_one_handle(cap):
    ops = fill(cap) + [Send(0, "x"), Send(0, "y")]
    ops += [TryRecv()] * cap + [TryRecv(), Resume(0), TryRecv(), Resume(1), TryRecv()]
    ts = replay(cap, ops)
    got = [o.value for o in outcomes(ts) if isinstance(o, Got)]
    assert sorted(got, key=str) == sorted([f"m{i}" for i in range(cap)] + ["x", "y"], key=str)
    assert len(got) == cap + 2
    assert ts[-1].state.waiters == ()


@pytest.mark.parametrize("k", BOUNDED_CAPS)
def test_rule12_parked_senders_have_no_priority_over_a_later_try_send(k):
    ts = replay(k, [Clone(0)] + fill(k) + [Send(0, "parked"), TryRecv(), TrySend(1, "later")])
    assert ts[-1].outcome == Done()
    assert not can_complete(ts[-1].state, Resume(0))


@pytest.mark.parametrize("cap", BLOCKING_CAPS)
def test_rule12_cancel_of_a_resolved_waiter_keeps_the_resolution_not_timeout(cap):
    if cap == 0:
        ts = replay(0, [SendTimeout(0, "v"), TryRecv(), Cancel(0)])
        assert ts[-1].outcome == Done()
        ts = replay(0, [RecvTimeout(), TrySend(0, "v"), Cancel(0)])
        assert ts[-1].outcome == Got("v")  # the value was taken: a Timeout would lose it
        assert ts[-1].rule is Rule.RENDEZVOUS
    else:
        ts = replay(cap, fill(cap) + [SendTimeout(0, "v"), CloseReceiver(), Cancel(0)])
        assert ts[-1].outcome == Failed(DISCONNECTED, "v")
        assert ts[-1].rule is Rule.RECEIVER_CLOSE


@pytest.mark.parametrize("cap", BLOCKING_CAPS)
def test_timeout_cancel_of_an_unresolved_waiter_is_timeout(cap):
    ts = replay(cap, fill(cap) + [SendTimeout(0, "v"), Cancel(0)])
    assert ts[-1].outcome == Failed(TIMEOUT, "v")
    assert ts[-1].rule is Rule.TIMEOUT
    assert ts[-1].state.waiters == ()
    assert "v" not in ts[-1].state.buffer
    ts = replay(cap, [RecvTimeout(), Cancel(0)])
    assert ts[-1].outcome == Failed(TIMEOUT)
    assert ts[-1].outcome.value is NO_VALUE
    assert ts[-1].rule is Rule.TIMEOUT
    assert ts[-1].state == State(capacity=cap, next_ticket=1)


def test_rule12_is_documented_in_the_model_docstring():
    doc = model_module.__doc__
    assert "Rule 12" in doc
    for choice in ("HandleClosed", "Two threads using the one receiver", "one sender handle"):
        assert choice in doc


# --- the Rule enum ------------------------------------------------------------------------------


def test_rule_enum_numbers_and_text():
    assert {r.number for r in Rule} >= {1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12}
    assert str(Rule.RENDEZVOUS).startswith("rule 3 (")
    assert str(Rule.USAGE).startswith("contract (")
    assert Rule.USAGE is not Rule.TIMEOUT


# --- capacity validation ------------------------------------------------------------------------


@pytest.mark.parametrize("cap", [None, 0, 1, 7, 10**30])
def test_capacity_valid(cap):
    assert validate_capacity(cap) == cap
    assert initial(cap).capacity == cap
    assert cap in ALL_CAPACITIES


@pytest.mark.parametrize("cap", [-1, -(10**30)])
def test_capacity_negative_is_value_error(cap):
    with pytest.raises(ValueError, match="capacity"):
        validate_capacity(cap)
    with pytest.raises(ValueError):
        initial(cap)


@pytest.mark.parametrize("cap", [1.5, 1.0, "1", True, False, [1]], ids=repr)
def test_capacity_non_int_is_type_error(cap):
    with pytest.raises(TypeError):
        validate_capacity(cap)
    with pytest.raises(TypeError):
        initial(cap)
    assert cap not in ALL_CAPACITIES


def test_capacities_membership():
    assert None in Capacities() and 0 in Capacities() and 5 in Capacities()
    assert -1 not in Capacities()
    assert None not in Capacities(unbounded=False)
    assert 0 not in Capacities(rendezvous=False)
    assert 3 not in Capacities(bounded=False)
    assert 0 in Capacities(bounded=False) and None in Capacities(bounded=False)


def test_capacities_describe():
    assert Capacities().describe() == "unbounded (None), bounded (k > 0), rendezvous (0)"
    assert Capacities(rendezvous=False).describe() == "unbounded (None), bounded (k > 0)"
    assert Capacities(False, False, False).describe() == "no capacity at all"


def test_validate_capacity_refuses_what_is_not_offered_naming_what_is():
    offered = Capacities(rendezvous=False)
    with pytest.raises(ValueError) as info:
        validate_capacity(0, offered)
    message = str(info.value)
    assert offered.describe() in message
    assert "rendezvous" not in message.split("offers", 1)[1]
    assert validate_capacity(None, offered) is None
    assert validate_capacity(4, offered) == 4
    with pytest.raises(ValueError, match=r"offers bounded \(k > 0\), rendezvous \(0\)$"):
        validate_capacity(None, Capacities(unbounded=False))


# --- timeout validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [(None, None), (0, 0.0), (0.25, 0.25), (3, 3.0), (math.inf, None), (1e300, None)],
)
def test_validate_timeout_valid(timeout, expected):
    result = validate_timeout(timeout)
    assert result == expected
    if expected is not None:
        assert type(result) is float


def test_validate_timeout_at_timeout_max_waits_forever():
    assert validate_timeout(threading.TIMEOUT_MAX) is None
    assert validate_timeout(2**70) is None


@pytest.mark.parametrize("timeout", [-1, -0.5, -math.inf, math.nan])
def test_validate_timeout_negative_or_nan_is_value_error(timeout):
    with pytest.raises(ValueError):
        validate_timeout(timeout)


@pytest.mark.parametrize("timeout", ["1", True, False, [1], 1j], ids=repr)
def test_validate_timeout_non_number_is_type_error(timeout):
    with pytest.raises(TypeError):
        validate_timeout(timeout)


def test_validate_timeout_huge_int_waits_forever():
    assert validate_timeout(10**400) is None
    with pytest.raises(ValueError):
        validate_timeout(-(10**400))


# --- exceptions ---------------------------------------------------------------------------------

EXCEPTIONS = [Disconnected, Empty, Full, Timeout, HandleClosed]


def test_handle_closed_is_a_value_error():
    assert issubclass(HandleClosed, ValueError)
    assert issubclass(HandleClosed, ChannelError)
    with pytest.raises(ValueError):
        raise HandleClosed(value="v")


@pytest.mark.parametrize("exc", EXCEPTIONS)
def test_exceptions_carry_value_or_no_value(exc):
    assert issubclass(exc, ChannelError)
    assert exc().value is NO_VALUE
    payload = ["unhashable"]
    assert exc(value=payload).value is payload
    assert exc(value=None).value is None
    assert str(exc()) == exc.__doc__.strip().splitlines()[0]
    assert str(exc("custom")) == "custom"


@pytest.mark.parametrize("exc", EXCEPTIONS)
@pytest.mark.parametrize("value", [NO_VALUE, None, 42, ["list"], ("t", 1)], ids=repr)
def test_exceptions_survive_pickle_and_copy_with_their_value(exc, value):
    original = exc("msg", value=value)
    for clone in (
        pickle.loads(pickle.dumps(original)),
        copy.copy(original),
        copy.deepcopy(original),
    ):
        assert type(clone) is exc
        assert str(clone) == "msg"
        assert clone.value == value
        if value is NO_VALUE:
            assert clone.value is NO_VALUE


def test_no_value_is_a_singleton_that_survives_pickle():
    assert pickle.loads(pickle.dumps(NO_VALUE)) is NO_VALUE
    assert copy.deepcopy(NO_VALUE) is NO_VALUE
    assert type(NO_VALUE)() is NO_VALUE
    assert repr(NO_VALUE) == "NO_VALUE"
    assert NO_VALUE is not None


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_error_kind_round_trip(kind):
    assert ErrorKind.of(kind.exception()) is kind
    assert ErrorKind.of(kind.exception(value=1)) is kind
    assert kind.exception.__name__ == kind.value

    class Sub(kind.exception):
        pass

    assert ErrorKind.of(Sub()) is kind


def test_error_kind_of_a_non_outcome_is_type_error():
    with pytest.raises(TypeError):
        ErrorKind.of(ChannelError())
    with pytest.raises(TypeError):
        ErrorKind.of(ValueError())


def test_failed_outcomes_name_the_exception_to_raise():
    (t,) = replay(0, [TrySend(0, "v")])
    exc = t.outcome.error.exception(value=t.outcome.value)
    assert isinstance(exc, Full) and exc.value == "v"


# --- InvalidOp: bugs in whoever drives the model -------------------------------------------------


def test_invalid_op_is_a_value_error_not_a_channel_outcome():
    assert issubclass(InvalidOp, ValueError)
    assert not issubclass(InvalidOp, ChannelError)


@pytest.mark.parametrize("cap", ALL_CAPS)
@pytest.mark.parametrize(
    "op",
    [Send(1, "v"), SendTimeout(1, "v"), TrySend(1, "v"), Clone(1), CloseSender(1),
     Send(-1, "v"), Clone(-1), CloseSender(99)],
    ids=repr,
)
def test_invalid_op_for_never_created_handles(cap, op):
    with pytest.raises(InvalidOp):
        step(initial(cap), op)


def test_invalid_op_even_after_the_receiver_closed():
    state = state_after(1, [CloseReceiver()])
    with pytest.raises(InvalidOp):
        step(state, TrySend(3, "v"))


@pytest.mark.parametrize("cap", ALL_CAPS)
@pytest.mark.parametrize("op", [Resume(0), Cancel(0), Resume(-1), Cancel(7)], ids=repr)
def test_invalid_op_for_unknown_tickets(cap, op):
    with pytest.raises(InvalidOp):
        step(initial(cap), op)


@pytest.mark.parametrize("finish", [Resume, Cancel])
def test_invalid_op_for_a_finished_ticket(finish):
    ts = replay(0, [RecvTimeout(), TrySend(0, "v"), finish(0)])
    for again in (Resume(0), Cancel(0)):
        with pytest.raises(InvalidOp):
            step(ts[-1].state, again)


@pytest.mark.parametrize("cap", BLOCKING_CAPS)
def test_invalid_op_cancel_of_an_untimed_op(cap):
    state = state_after(cap, fill(cap) + [Send(0, "v")])
    with pytest.raises(InvalidOp, match="untimed"):
        step(state, Cancel(0))
    state = state_after(cap, [Recv()])
    with pytest.raises(InvalidOp, match="untimed"):
        step(state, Cancel(0))
    # even a resolved untimed waiter cannot be cancelled
    state = state_after(cap, [Recv(), CloseReceiver()])
    with pytest.raises(InvalidOp):
        step(state, Cancel(0))


@pytest.mark.parametrize("cap", ALL_CAPS)
def test_invalid_op_resume_before_can_complete(cap):
    ops = fill(cap) + [Send(0, "v")] if cap is not None else [Recv()]
    state = state_after(cap, ops)
    assert not can_complete(state, Resume(0))
    with pytest.raises(InvalidOp, match="cannot complete"):
        step(state, Resume(0))
    state = state_after(cap, [Recv()])
    assert not can_complete(state, Resume(0))
    with pytest.raises(InvalidOp):
        step(state, Resume(0))


@pytest.mark.parametrize("garbage", [None, "send", Blocked(0), Done()], ids=repr)
def test_invalid_op_for_something_that_is_not_an_op(garbage):
    with pytest.raises(InvalidOp):
        step(initial(0), garbage)


# --- purity -------------------------------------------------------------------------------------


def test_state_is_frozen_and_hashable():
    state = state_after(0, [Clone(0), Send(1, "v"), Recv(), Recv()])
    assert hash(state) == hash(copy.deepcopy(state))
    with pytest.raises(AttributeError):
        state.capacity = 3  # type: ignore[misc]
    assert initial(2) == initial(2) and hash(initial(2)) == hash(initial(2))


# --- property test: random valid op sequences --------------------------------------------------

SEND_KINDS = (Send, SendTimeout, TrySend)


def _valid_ops(state: State, token: int) -> list:
    """Every op that is valid on ``state`` (tokens are fresh ints, so each is distinct)."""
    ops: list = []
    for h in range(state.next_handle):
        ops += [Send(h, token), TrySend(h, token), SendTimeout(h, token)]
    ops += [Recv(), TryRecv(), RecvTimeout()]
    for w in state.waiters:
        if can_complete(state, Resume(w.ticket)):
            ops.append(Resume(w.ticket))
        if isinstance(w.op, (SendTimeout, RecvTimeout)):
            ops.append(Cancel(w.ticket))
    for h in range(state.next_handle):
        ops += [Clone(h), CloseSender(h)]
    ops.append(CloseReceiver())
    return ops


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cap=st.sampled_from([None, 0, 1, 2, 3]),
    length=st.integers(min_value=0, max_value=40),
    data=st.data(),
)
def test_property_invariants_over_random_op_sequences(cap, length, data):
    state = initial(cap)
    invoked: dict[int, int] = {}  # token -> step at which its send was invoked
    returned: dict[int, int] = {}  # token -> step at which its send returned Done
    taken: list[int] = []  # tokens in the order they left the channel to a receiver
    got_returned: set[int] = set()  # tokens a receive returned
    discarded: set[int] = set()
    for i in range(length):
        op = data.draw(st.sampled_from(_valid_ops(state, token=i)), label=f"op {i}")
        before = copy.deepcopy(state)
        before_hash = hash(state)
        if isinstance(op, (Send, SendTimeout, Recv, RecvTimeout)):
            completes = can_complete(state, op)
        t = step(state, op)
        # purity: the input is untouched, the step is deterministic, the output hashable
        assert state == before and hash(state) == before_hash
        assert step(state, op) == t
        hash(t.state)
        assert isinstance(t.rule, Rule)
        if isinstance(op, (Send, SendTimeout, Recv, RecvTimeout)):
            assert completes == (not isinstance(t.outcome, Blocked))

        # which send / receive does this outcome belong to?
        waiter = state.waiter(op.ticket) if isinstance(op, (Resume, Cancel)) else None
        call = waiter.op if waiter is not None else op
        if isinstance(call, SEND_KINDS):
            if waiter is None:
                invoked[call.value] = i
            if isinstance(t.outcome, Done):
                returned[call.value] = i
            elif isinstance(t.outcome, Failed):
                assert t.outcome.value == call.value  # nothing silently lost
                assert t.outcome.error is not EMPTY
            else:
                assert isinstance(t.outcome, Blocked) and waiter is None
        if isinstance(t.outcome, Got):
            v = t.outcome.value
            assert v in invoked, "phantom message"
            assert v not in got_returned, "duplicate delivery"
            got_returned.add(v)
            already = waiter is not None and waiter.resolution == t.outcome
            if not already:
                taken.append(v)
        elif isinstance(t.outcome, Failed) and not isinstance(call, SEND_KINDS):
            assert t.outcome.value is NO_VALUE
        for w in t.state.waiters:  # values handed to parked receivers leave the channel now
            if isinstance(w.resolution, Got) and w.ticket < state.next_ticket:
                if state.waiter(w.ticket).resolution is None:
                    taken.append(w.resolution.value)
            elif isinstance(w.resolution, Got):
                raise AssertionError("a new waiter is already resolved")
        if isinstance(op, CloseReceiver) and state.receiver_open:
            discarded |= set(state.buffer)
        if isinstance(t.outcome, Blocked):
            assert t.state.waiter(t.outcome.ticket).op == op
        if isinstance(op, (Resume, Cancel)):
            assert all(w.ticket != op.ticket for w in t.state.waiters)
        state = t.state

        # --- invariants of the new state and the history so far
        buffer = state.buffer
        if cap is not None:
            assert len(buffer) <= cap
        if cap == 0:
            assert buffer == ()
            assert not (state.offers() and state.waiting_receivers())
        if not state.receiver_open:
            assert buffer == ()
        assert len(taken) == len(set(taken)), "a token was taken twice"
        assert set(taken) <= set(invoked)
        pending_done = {
            w.op.value for w in state.waiters if w.is_send and w.resolution == Done()
        }
        in_channel = [set(buffer), set(taken), discarded]
        assert sum(map(len, in_channel)) == len(set().union(*in_channel)), "token in two places"
        assert set(returned) <= set().union(*in_channel), "a returned send was lost"
        assert set().union(*in_channel) <= set(returned) | pending_done, "phantom token"
        if cap is not None:  # rule 11: at most C completed sends ahead of the receives
            assert len(returned) <= len(taken) + len(discarded) + cap
        # rule 10, real-time FIFO: A returned before B was invoked, B taken => A taken first
        position = {v: n for n, v in enumerate(taken)}
        for b in taken:
            for a, a_ret in returned.items():
                if a_ret < invoked[b]:
                    assert a in position and position[a] < position[b], (a, b)
        order = {v: n for n, v in enumerate(buffer)}
        for b in buffer:
            for a, a_ret in returned.items():
                if a_ret < invoked[b] and a in order:
                    assert order[a] < order[b]
