"""A channel built on the stdlib ``queue.Queue``, adding the disconnect bookkeeping it lacks.

``queue.Queue`` already has the buffer, its lock and its FIFO order; what it lacks is
senders that can be counted and closed, a receiver that can go away, and blocked callers
that wake when either happens.  That bookkeeping lives here, under a lock of our own
(``_lock``), and every put and get is a non-blocking ``put_nowait``/``get_nowait`` made
while holding it: the check "is the receiver still there?" and the put are one atomic
step, so no message can be left behind in a channel whose receiver already closed.

Waiting happens outside ``_lock``, on the queue's own ``not_full``/``not_empty``
Conditions (public attributes of ``queue.Queue``), which ``get``/``put`` notify; closes
notify them too.  A notification that slips between our failed attempt and the start of
our wait is not lost for long: each wait is capped at ``_POLL`` seconds, after which the
attempt is simply retried.  That cap is the price of not reaching into the queue's
private methods; it bounds latency in a rare race, never correctness.

Capacity 0 is not offered: ``Queue(maxsize=0)`` means *unbounded*, and a queue cannot
make a ``put`` wait for a ``get``.
"""

from __future__ import annotations

import queue
import threading
import time

from impls._handles import Receiver, Sender
from spec import Capacities, Disconnected, Empty, Full, HandleClosed, Timeout, validate_capacity

__all__ = ["Receiver", "Sender", "channel"]

_POLL = 0.05
_OFFERED = Capacities(unbounded=True, bounded=True, rendezvous=False)


class _Core:
    def __init__(self, capacity: int | None) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=capacity or 0)
        self._lock = threading.Lock()  # guards the three fields below and every put/get
        self._senders = 1
        self._receiver_open = True

    def send(self, handle: Sender, value: object, block: bool, timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                if handle.closed:
                    raise HandleClosed(value=value)
                if not self._receiver_open:
                    raise Disconnected(value=value)
                try:
                    self._queue.put_nowait(value)
                    return
                except queue.Full:
                    if not block:
                        raise Full(value=value) from None
            self._wait(self._queue.not_full, deadline, value)

    def recv(self, handle: Receiver, block: bool, timeout: float | None) -> object:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                if handle.closed:
                    raise HandleClosed()
                try:
                    return self._queue.get_nowait()
                except queue.Empty:
                    if not self._senders:
                        raise Disconnected() from None
                    if not block:
                        raise Empty() from None
            self._wait(self._queue.not_empty, deadline)

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
        self._wake_all()

    def close_receiver(self, handle: Receiver) -> None:
        with self._lock:
            if handle.closed:
                return
            handle.closed = True
            self._receiver_open = False
            while True:  # discard the buffer: the channel must keep no reference (rule 9)
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
        self._wake_all()

    def _wake_all(self) -> None:
        for cond in (self._queue.not_full, self._queue.not_empty):
            with cond:
                cond.notify_all()

    @staticmethod
    def _wait(cond: threading.Condition, deadline: float | None, *value: object) -> None:
        """Wait for the queue to change, at most ``_POLL`` s; Timeout once past the deadline.
        Raising only *after* a failed attempt means a timed-out call always made one last try."""
        slice_ = _POLL
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Timeout(value=value[0]) if value else Timeout()
            slice_ = min(slice_, remaining)
        with cond:
            cond.wait(slice_)


def channel(capacity: int | None = None) -> tuple[Sender, Receiver]:
    """A new channel: ``None`` unbounded or ``k > 0`` bounded; rendezvous is not offered."""
    core = _Core(validate_capacity(capacity, _OFFERED))
    return Sender(core), Receiver(core)


channel.capacities = _OFFERED  # type: ignore[attr-defined]
