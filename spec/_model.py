"""The executable model of an MPSC channel: a pure state machine.

Everything here is frozen and hashable; nothing blocks, mutates or knows about threads.
``step(state, op)`` gives the next state, the outcome, and the :class:`Rule` that decides
it.  Messages are opaque hashable *tokens*: the conformance layer maps real objects
(``None``, exceptions, unhashable things) to tokens and checks identity itself.

Blocking, in the model
----------------------
A blocking operation (``Send``, ``SendTimeout``, ``Recv``, ``RecvTimeout``) that can
complete now completes at once.  One that cannot becomes a *waiter*: ``step`` records it
in the state under a fresh ticket and returns ``Blocked(ticket)``.  The thread is then
parked until either

* ``Resume(ticket)`` completes it, allowed once :func:`can_complete` says so: a partner
  or a close has *resolved* it (its outcome is fixed), or retrying it now would succeed
  (a slot freed up, a message arrived); or
* ``Cancel(ticket)`` gives up (timed operations only): ``Timeout``, unless the waiter was
  already resolved, in which case the resolution stands (the value was taken: reporting a
  timeout would lose it).  Cancel is allowed even when a retry would now succeed: the time
  may have run out just before the slot or message appeared, and a checker must accept it.

Waiters matter most for rendezvous (rule 3): a ``try_recv`` succeeds only by taking the
value of a *waiting* sender, a ``try_send`` only by handing to a *waiting* receiver.  For
buffered channels they just say "this thread is parked"; no ordering among parked
senders is promised (std promises none either).

Rule 12: handles in flight (the choices, following trio's memory channels)
-------------------------------------------------------------------------
* **A sender handle closed while another thread is blocked sending through it**: the close
  takes effect at once.  The blocked send is woken with ``HandleClosed`` carrying its
  value (it was never delivered: nothing is lost), and if that was the last open sender
  the channel disconnects.  A send through the handle that had already completed stays
  completed.  (trio raises ``ClosedResourceError`` in tasks blocked on a closed handle.)
* **The receiver closed while another thread is blocked in ``recv`` on it**: the blocked
  receive is woken with ``HandleClosed``; blocked senders are woken with
  ``Disconnected(value)`` as rule 6 says.
* **Two threads using the one receiver**: allowed.  Each message is received exactly once,
  by one of them, in FIFO order of the receives' effects: the receiver behaves as the
  receiving end of an MPMC queue.  (Rust forbids this statically; Python cannot, and an
  error would punish the common "hand the receiver to a worker" pattern.)
* **Two threads sending through one sender handle**: allowed, exactly like two handles.
  Program order (rule 10) is per thread, not per handle.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable
from dataclasses import dataclass, replace
from typing import Union

from spec._contract import validate_capacity
from spec._errors import NO_VALUE, ErrorKind

__all__ = [
    "FIRST_SENDER",
    "Blocked",
    "Cancel",
    "Clone",
    "CloseReceiver",
    "CloseSender",
    "Done",
    "Failed",
    "Got",
    "InvalidOp",
    "NewSender",
    "Op",
    "Outcome",
    "Recv",
    "RecvTimeout",
    "Resume",
    "Rule",
    "Send",
    "SendTimeout",
    "State",
    "Token",
    "Transition",
    "TryRecv",
    "TrySend",
    "Waiter",
    "can_complete",
    "initial",
    "replay",
    "step",
]

Token = Hashable
"""A message as the model sees it: any hashable stand-in for the real object."""

FIRST_SENDER = 0
"""Handle number of the sender ``channel()`` returns; clones count up from 1."""


class Rule(enum.Enum):
    """The rules of the semantics, so each outcome can say which rule decided it."""

    UNBOUNDED = (1, "unbounded: send never blocks while the receiver lives")
    BOUNDED = (2, "bounded k: at most k buffered, FIFO; send blocks and try_send is Full when full")
    RENDEZVOUS = (3, "rendezvous: nothing buffered; a send completes only when a receiver takes it")
    CLONE = (4, "clone: a new independent sender; each clone is closed separately")
    SENDER_CLOSE = (
        5,
        "sender close: the last close disconnects; the buffer drains first, then Disconnected",
    )
    RECEIVER_CLOSE = (
        6,
        "receiver close: sends fail with Disconnected(value), blocked senders wake, buffer discarded",
    )
    PRECEDENCE = (7, "precedence: buffered messages before Disconnected; Disconnected before Full")
    VALUES = (9, "values: the same object, exactly once; no reference kept after delivery")
    ORDER = (10, "order: per-producer program order and real-time FIFO across producers")
    SYNCHRONISATION = (11, "synchronisation: the k-th receive begins before the (k+C)-th send completes")
    IN_FLIGHT = (12, "handles in flight: closing a handle wakes operations blocked through it")
    USAGE = (0, "usage: an operation on a closed handle raises HandleClosed (a ValueError)")
    TIMEOUT = (0, "timeout: a timed operation that could not complete in time raises Timeout")

    def __init__(self, number: int, text: str) -> None:
        self.number = number
        self.text = text

    def __str__(self) -> str:
        prefix = f"rule {self.number}" if self.number else "contract"
        return f"{prefix} ({self.text})"


# --- operations: a small closed set of frozen records -------------------------------


@dataclass(frozen=True)
class Send:
    """``tx.send(value)``: blocks while full / until a receiver takes it."""

    handle: int
    value: Token


@dataclass(frozen=True)
class SendTimeout:
    """``tx.send(value, timeout=s)``: like Send, but may be cancelled with Timeout."""

    handle: int
    value: Token


@dataclass(frozen=True)
class TrySend:
    """``tx.try_send(value)``: never blocks."""

    handle: int
    value: Token


@dataclass(frozen=True)
class Clone:
    """``tx.clone()``."""

    handle: int


@dataclass(frozen=True)
class CloseSender:
    """``tx.close()``: idempotent."""

    handle: int


@dataclass(frozen=True)
class Recv:
    """``rx.recv()``: blocks until a message or disconnection."""


@dataclass(frozen=True)
class RecvTimeout:
    """``rx.recv(timeout=s)``."""


@dataclass(frozen=True)
class TryRecv:
    """``rx.try_recv()``: never blocks."""


@dataclass(frozen=True)
class CloseReceiver:
    """``rx.close()``: idempotent."""


@dataclass(frozen=True)
class Resume:
    """A parked operation completes (allowed once :func:`can_complete` says so)."""

    ticket: int


@dataclass(frozen=True)
class Cancel:
    """A parked *timed* operation gives up: its time ran out."""

    ticket: int


BlockingOp = Union[Send, SendTimeout, Recv, RecvTimeout]
Op = Union[
    Send,
    SendTimeout,
    TrySend,
    Clone,
    CloseSender,
    Recv,
    RecvTimeout,
    TryRecv,
    CloseReceiver,
    Resume,
    Cancel,
]

# --- outcomes: also closed, also frozen ----------------------------------------------


@dataclass(frozen=True)
class Done:
    """The call returned normally with nothing to return (send, close)."""


@dataclass(frozen=True)
class Got:
    """A receive returned this message."""

    value: Token


@dataclass(frozen=True)
class NewSender:
    """``clone()`` returned a new handle, numbered ``handle``."""

    handle: int


@dataclass(frozen=True)
class Failed:
    """The call raised ``error.exception``; send-side failures carry the unsent value."""

    error: ErrorKind
    value: Token = NO_VALUE


@dataclass(frozen=True)
class Blocked:
    """The call cannot complete now; it is parked as a waiter under ``ticket``."""

    ticket: int


Outcome = Union[Done, Got, NewSender, Failed, Blocked]


class InvalidOp(ValueError):
    """The op names something that does not exist (a handle never created, an unknown or
    finished ticket, a Cancel of an untimed op).  This is a bug in whoever drives the
    model, never a channel outcome."""


# --- state -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiter:
    """A parked blocking operation.  ``resolution`` is set once a partner or a close has
    fixed its outcome; until then a Resume retries the operation."""

    ticket: int
    op: BlockingOp
    resolution: Outcome | None = None

    @property
    def is_send(self) -> bool:
        return isinstance(self.op, (Send, SendTimeout))


@dataclass(frozen=True)
class State:
    """The whole channel.  ``senders`` are the open sender handles; handle numbers below
    ``next_handle`` that are not in it have been closed."""

    capacity: int | None
    buffer: tuple[Token, ...] = ()
    senders: frozenset[int] = frozenset({FIRST_SENDER})
    next_handle: int = FIRST_SENDER + 1
    receiver_open: bool = True
    waiters: tuple[Waiter, ...] = ()
    next_ticket: int = 0

    @property
    def disconnected(self) -> bool:
        """Every sender handle is closed (the receive side's "disconnected")."""
        return not self.senders

    def waiter(self, ticket: int) -> Waiter:
        for w in self.waiters:
            if w.ticket == ticket:
                return w
        raise InvalidOp(f"no parked operation has ticket {ticket}")

    def offers(self) -> tuple[Waiter, ...]:
        """Rendezvous only: senders parked with their value, not yet taken, oldest first.
        (A sender parked on a full buffer offers nothing: it must get a slot.)"""
        if self.capacity != 0:
            return ()
        return tuple(w for w in self.waiters if w.is_send and w.resolution is None)

    def waiting_receivers(self) -> tuple[Waiter, ...]:
        """Receivers parked and not yet handed a value, oldest first."""
        return tuple(w for w in self.waiters if not w.is_send and w.resolution is None)


@dataclass(frozen=True)
class Transition:
    """Result of one step: the next state, what the caller sees, and the rule that decided it."""

    state: State
    outcome: Outcome
    rule: Rule


def initial(capacity: int | None) -> State:
    """A fresh channel: one open sender (handle 0), an open receiver, nothing buffered."""
    validate_capacity(capacity)
    return State(capacity=capacity)


# --- the step function -------------------------------------------------------------------


def step(state: State, op: Op) -> Transition:
    """Apply one operation.  Total over valid ops; raises :class:`InvalidOp` otherwise."""
    match op:
        case TrySend(handle, value):
            attempt = _attempt_send(state, handle, value)
            if attempt is not None:
                return attempt
            return Transition(state, Failed(ErrorKind.FULL, value), _capacity_rule(state))
        case Send(handle, value) | SendTimeout(handle, value):
            return _attempt_send(state, handle, value) or _park(state, op)
        case TryRecv():
            attempt = _attempt_recv(state)
            if attempt is not None:
                return attempt
            return Transition(state, Failed(ErrorKind.EMPTY), _capacity_rule(state))
        case Recv() | RecvTimeout():
            return _attempt_recv(state) or _park(state, op)
        case Clone(handle):
            _check_handle(state, handle)
            if handle not in state.senders:
                return Transition(state, Failed(ErrorKind.HANDLE_CLOSED), Rule.USAGE)
            new = state.next_handle
            nxt = replace(state, senders=state.senders | {new}, next_handle=new + 1)
            return Transition(nxt, NewSender(new), Rule.CLONE)
        case CloseSender(handle):
            _check_handle(state, handle)
            if handle not in state.senders:
                return Transition(state, Done(), Rule.SENDER_CLOSE)  # idempotent
            return _close_sender(state, handle)
        case CloseReceiver():
            if not state.receiver_open:
                return Transition(state, Done(), Rule.RECEIVER_CLOSE)  # idempotent
            return _close_receiver(state)
        case Resume(ticket):
            waiter = state.waiter(ticket)
            if waiter.resolution is not None:
                return Transition(_unpark(state, ticket), waiter.resolution, _rule_of(state, waiter))
            retry = (
                _attempt_send(state, waiter.op.handle, waiter.op.value)
                if isinstance(waiter.op, (Send, SendTimeout))
                else _attempt_recv(state)
            )
            if retry is None:
                raise InvalidOp(f"ticket {ticket} cannot complete yet (check can_complete first)")
            return Transition(_unpark(retry.state, ticket), retry.outcome, retry.rule)
        case Cancel(ticket):
            waiter = state.waiter(ticket)
            if not isinstance(waiter.op, (SendTimeout, RecvTimeout)):
                raise InvalidOp(f"ticket {ticket} is an untimed {type(waiter.op).__name__}")
            if waiter.resolution is not None:
                # Resolved just before the time ran out: the partner already has the
                # value (or the close already happened); a Timeout would lose it.
                return Transition(_unpark(state, ticket), waiter.resolution, _rule_of(state, waiter))
            value = waiter.op.value if isinstance(waiter.op, SendTimeout) else NO_VALUE
            return Transition(_unpark(state, ticket), Failed(ErrorKind.TIMEOUT, value), Rule.TIMEOUT)
    raise InvalidOp(f"not a channel operation: {op!r}")


def can_complete(state: State, op: Op) -> bool:
    """Whether ``op`` would complete now instead of parking (for Resume: may resume now).

    Non-blocking operations and Cancel always can.  The sequential suite uses this to
    decide which blocking calls it may make on one thread.
    """
    match op:
        case Send(handle, value) | SendTimeout(handle, value):
            return _attempt_send(state, handle, value) is not None
        case Recv() | RecvTimeout():
            return _attempt_recv(state) is not None
        case Cancel(ticket):
            state.waiter(ticket)  # InvalidOp for an unknown ticket, as step would raise
            return True
        case Resume(ticket):
            waiter = state.waiter(ticket)
            if waiter.resolution is not None:
                return True
            if isinstance(waiter.op, (Send, SendTimeout)):
                return _attempt_send(state, waiter.op.handle, waiter.op.value) is not None
            return _attempt_recv(state) is not None
    return True


def replay(capacity: int | None, ops: list[Op]) -> list[Transition]:
    """Run ops from a fresh channel; the researcher's quickest way to ask the model."""
    state = initial(capacity)
    out = []
    for op in ops:
        t = step(state, op)
        out.append(t)
        state = t.state
    return out


# --- the transitions, each written once ---------------------------------------------------


def _check_handle(state: State, handle: int) -> None:
    if not 0 <= handle < state.next_handle:
        raise InvalidOp(f"sender handle {handle} was never created")


def _attempt_send(state: State, handle: int, value: Token) -> Transition | None:
    """A send that takes effect now, or None if it must wait.  Order of checks is the
    precedence of rule 7: usage error, then Disconnected, then Full/park."""
    _check_handle(state, handle)
    if handle not in state.senders:
        return Transition(state, Failed(ErrorKind.HANDLE_CLOSED, value), Rule.USAGE)
    if not state.receiver_open:
        return Transition(state, Failed(ErrorKind.DISCONNECTED, value), Rule.RECEIVER_CLOSE)
    if state.capacity is None:
        return Transition(replace(state, buffer=state.buffer + (value,)), Done(), Rule.UNBOUNDED)
    if state.capacity > 0:
        if len(state.buffer) < state.capacity:
            return Transition(replace(state, buffer=state.buffer + (value,)), Done(), Rule.BOUNDED)
        return None
    receivers = state.waiting_receivers()
    if receivers:
        handed = _resolve(state, receivers[0].ticket, Got(value))
        return Transition(handed, Done(), Rule.RENDEZVOUS)
    return None


def _attempt_recv(state: State) -> Transition | None:
    """A receive that takes effect now, or None if it must wait: buffered messages first,
    then (rendezvous) the oldest waiting sender's value, then Disconnected."""
    if not state.receiver_open:
        return Transition(state, Failed(ErrorKind.HANDLE_CLOSED), Rule.USAGE)
    if state.buffer:
        rule = Rule.PRECEDENCE if state.disconnected else _capacity_rule(state)
        return Transition(replace(state, buffer=state.buffer[1:]), Got(state.buffer[0]), rule)
    offers = state.offers()
    if offers:
        offer = offers[0]
        assert isinstance(offer.op, (Send, SendTimeout))
        taken = _resolve(state, offer.ticket, Done())
        return Transition(taken, Got(offer.op.value), Rule.RENDEZVOUS)
    if state.disconnected:
        return Transition(state, Failed(ErrorKind.DISCONNECTED), Rule.SENDER_CLOSE)
    return None


def _park(state: State, op: BlockingOp) -> Transition:
    ticket = state.next_ticket
    parked = replace(state, waiters=state.waiters + (Waiter(ticket, op),), next_ticket=ticket + 1)
    return Transition(parked, Blocked(ticket), _capacity_rule(state))


def _capacity_rule(state: State) -> Rule:
    """The rule of this channel's flavour: what decides a Full, an Empty or a park."""
    if state.capacity is None:
        return Rule.UNBOUNDED
    return Rule.RENDEZVOUS if state.capacity == 0 else Rule.BOUNDED


def _unpark(state: State, ticket: int) -> State:
    return replace(state, waiters=tuple(w for w in state.waiters if w.ticket != ticket))


def _resolve(state: State, ticket: int, outcome: Outcome) -> State:
    return replace(
        state,
        waiters=tuple(
            replace(w, resolution=outcome) if w.ticket == ticket else w for w in state.waiters
        ),
    )


def _rule_of(state: State, waiter: Waiter) -> Rule:
    match waiter.resolution:
        case Failed(ErrorKind.HANDLE_CLOSED):
            return Rule.IN_FLIGHT
        case Failed(ErrorKind.DISCONNECTED):
            return Rule.RECEIVER_CLOSE if waiter.is_send else Rule.SENDER_CLOSE
    return Rule.RENDEZVOUS


def _close_sender(state: State, handle: int) -> Transition:
    """Rule 5, and rule 12: sends parked on this handle wake with HandleClosed(value).
    Receivers parked when the last sender goes need no resolution: retrying them finds
    nothing buffered, no offers and no senders, which is Disconnected."""
    waiters = tuple(
        replace(w, resolution=Failed(ErrorKind.HANDLE_CLOSED, w.op.value))
        if w.resolution is None and isinstance(w.op, (Send, SendTimeout)) and w.op.handle == handle
        else w
        for w in state.waiters
    )
    closed = replace(state, senders=state.senders - {handle}, waiters=waiters)
    return Transition(closed, Done(), Rule.SENDER_CLOSE)


def _close_receiver(state: State) -> Transition:
    """Rule 6: the buffer is discarded, parked senders wake with Disconnected(value);
    rule 12: receives parked on the receiver wake with HandleClosed."""
    waiters = []
    for w in state.waiters:
        if w.resolution is None:
            if isinstance(w.op, (Send, SendTimeout)):
                w = replace(w, resolution=Failed(ErrorKind.DISCONNECTED, w.op.value))
            else:
                w = replace(w, resolution=Failed(ErrorKind.HANDLE_CLOSED))
        waiters.append(w)
    closed = replace(state, receiver_open=False, buffer=(), waiters=tuple(waiters))
    return Transition(closed, Done(), Rule.RECEIVER_CLOSE)
