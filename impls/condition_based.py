"""A channel in the manner of CPython's ``queue.py``: a deque, one lock, two Conditions.

Locking rule (stated once, as queue.py does): every field of ``_Core`` is read and
written only while holding ``self._lock``; ``_not_empty`` and ``_not_full`` share that
lock.  Every wait is a ``while`` loop that re-checks its predicate *and* the close flags,
so a close (which ``notify_all``s) or a timed-out wait can never lose a message or a
wake-up.  Unlike ``queue.Queue`` there is no task tracking (``task_done``/``join``).

Capacity 0 (rendezvous) reuses the same lock and Conditions: a parked sender publishes an
``_Offer`` and waits until a receiver marks it taken; a parked receiver publishes a
``_Claim`` that a sender fills.  ``try_recv`` takes only published offers and
``try_send`` fills only published claims, which is exactly rule 3.
"""

from __future__ import annotations

import threading
from collections import deque

from impls._handles import Receiver, Sender, wait_step
from spec import ALL_CAPACITIES, Disconnected, Empty, Full, HandleClosed, validate_capacity

__all__ = ["Receiver", "Sender", "channel"]


class _Offer:
    """A sender parked at capacity 0, holding its value until a receiver takes it."""

    __slots__ = ("handle", "taken", "value")

    def __init__(self, handle: Sender, value: object) -> None:
        self.handle = handle
        self.value = value
        self.taken = False


class _Claim:
    """A receiver parked at capacity 0, waiting for a sender to fill it."""

    __slots__ = ("filled", "value")

    def __init__(self) -> None:
        self.value: object = None
        self.filled = False


class _Core:
    def __init__(self, capacity: int | None) -> None:
        self._capacity = capacity
        self._buffer: deque[object] = deque()
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)  # receivers wait here
        self._not_full = threading.Condition(self._lock)  # senders wait here
        self._senders = 1
        self._receiver_open = True
        self._offers: deque[_Offer] = deque()
        self._claims: deque[_Claim] = deque()

    # -- sending ---------------------------------------------------------------------

    def send(self, handle: Sender, value: object, block: bool, timeout: float | None) -> None:
        with self._lock:
            if self._capacity == 0:
                return self._send_rendezvous(handle, value, block, timeout)
            capacity = self._capacity
            deadline = None
            while True:
                if handle.closed:
                    raise HandleClosed(value=value)
                if not self._receiver_open:
                    raise Disconnected(value=value)
                if capacity is None or len(self._buffer) < capacity:
                    self._buffer.append(value)
                    self._not_empty.notify()
                    return None
                if not block:
                    raise Full(value=value)
                deadline = wait_step(self._not_full, timeout, deadline, value)

    def _send_rendezvous(self, handle: Sender, value: object, block: bool, timeout: float | None) -> None:
        if handle.closed:
            raise HandleClosed(value=value)
        if not self._receiver_open:
            raise Disconnected(value=value)
        if self._claims:
            claim = self._claims.popleft()
            claim.value, claim.filled = value, True
            self._not_empty.notify_all()  # the claim's owner is one of several waiters
            return
        if not block:
            raise Full(value=value)
        offer = _Offer(handle, value)
        self._offers.append(offer)
        deadline = None
        try:
            while not offer.taken:
                if handle.closed:
                    raise HandleClosed(value=value)
                if not self._receiver_open:
                    raise Disconnected(value=value)
                deadline = wait_step(self._not_full, timeout, deadline, value)
        finally:
            if not offer.taken and offer in self._offers:  # close_sender may have withdrawn it
                self._offers.remove(offer)
            offer.value = None

    # -- receiving -------------------------------------------------------------------

    def recv(self, handle: Receiver, block: bool, timeout: float | None) -> object:
        with self._lock:
            deadline = None
            while True:
                if handle.closed:
                    raise HandleClosed()
                if self._buffer:
                    value = self._buffer.popleft()
                    self._not_full.notify()
                    return value
                if self._offers:
                    offer = self._offers.popleft()
                    offer.taken = True
                    self._not_full.notify_all()  # the offer's owner is one of several waiters
                    return offer.value
                if not self._senders:
                    raise Disconnected()
                if not block:
                    raise Empty()
                if self._capacity == 0:
                    return self._recv_parked(handle, timeout)
                deadline = wait_step(self._not_empty, timeout, deadline)

    def _recv_parked(self, handle: Receiver, timeout: float | None) -> object:
        claim = _Claim()
        self._claims.append(claim)
        deadline = None
        try:
            while not claim.filled:
                if handle.closed:
                    raise HandleClosed()
                if not self._senders:
                    raise Disconnected()
                deadline = wait_step(self._not_empty, timeout, deadline)
            return claim.value
        finally:
            if not claim.filled:
                self._claims.remove(claim)
            claim.value = None

    # -- handles -----------------------------------------------------------------------

    def clone(self, handle: Sender) -> Sender:
        with self._lock:
            if handle.closed:
                raise HandleClosed("cannot clone a closed sender")
            self._senders += 1
            return Sender(self)

    def close_sender(self, handle: Sender) -> None:
        with self._lock:
            if handle.closed:
                return
            handle.closed = True
            self._senders -= 1
            if self._offers:
                # An offer made through this handle is withdrawn now, not when its sender
                # wakes: a receiver must not take a value whose send has already failed.
                self._offers = deque(o for o in self._offers if o.handle is not handle)
            # Wake sends blocked through this handle (rule 12) and, if it was the last,
            # receivers waiting for a message that can no longer come (rule 5).
            self._not_full.notify_all()
            self._not_empty.notify_all()

    def close_receiver(self, handle: Receiver) -> None:
        with self._lock:
            if handle.closed:
                return
            handle.closed = True
            self._receiver_open = False
            self._buffer.clear()
            self._not_full.notify_all()
            self._not_empty.notify_all()


def channel(capacity: int | None = None) -> tuple[Sender, Receiver]:
    """A new channel: ``None`` unbounded, ``0`` rendezvous, ``k > 0`` bounded."""
    core = _Core(validate_capacity(capacity, ALL_CAPACITIES))
    return Sender(core), Receiver(core)


channel.capacities = ALL_CAPACITIES  # type: ignore[attr-defined]
