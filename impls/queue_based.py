"""A channel built on the stdlib ``queue.Queue``, adding the disconnect bookkeeping it lacks.

``queue.Queue`` already has the buffer, the lock (``mutex``), the ``not_empty``/``not_full``
Conditions and FIFO order.  What it lacks is senders that can be counted and closed, a
receiver that can go away, and blocked callers that wake when either happens.  The core
*is* a ``Queue`` subclass that adds exactly that, through the hooks ``queue.py`` provides
for subclasses (``_init``, ``_put``; they run with ``mutex`` held), so the bookkeeping
shares the queue's one lock:

* ``_put`` refuses, under the mutex, a value whose handle is closed or whose receiver is
  gone.  So the check and the append are one atomic step, and no message can enter a
  channel after its receiver closed (it would never be delivered or discarded: rule 9).
* Receiving is the plain ``Queue.get`` (blocking or not, with its timeout).  While the
  channel is disconnected or the receiver closed, ``_qsize`` reports an empty buffer as one
  item, so ``get`` stops waiting and calls ``_get``, which raises ``Disconnected`` or
  ``HandleClosed`` instead of returning.  Closes ``notify_all`` so blocked gets re-check.
* Sending is the plain ``Queue.put`` with ``block=False``: one lock.  Only when the buffer
  is full do we wait on the queue's ``not_full`` ourselves, in a loop that re-checks this
  *handle's* flag under the same mutex (``Queue.put`` could not be woken for one handle's
  close: rule 12).  No polling, no lost wake-up.

Capacity 0 is not offered: ``Queue(maxsize=0)`` means *unbounded*, and a queue cannot make a
``put`` wait for a ``get``.
"""

from __future__ import annotations

import queue
from collections import deque
from typing import Any

from impls._handles import Receiver, Sender, wait_step
from spec import Capacities, Disconnected, Empty, Full, HandleClosed, Timeout, validate_capacity

__all__ = ["Receiver", "Sender", "channel"]

_OFFERED = Capacities(unbounded=True, bounded=True, rendezvous=False)


class _Core(queue.Queue):  # type: ignore[type-arg]
    """The shared state: a Queue whose items are ``(handle, value)`` on the way in."""

    def _init(self, maxsize: int) -> None:
        self.queue: deque[Any] = deque()
        self.senders = 1  # these three, like the deque, only change under self.mutex
        self.receiver_open = True
        self.live = True  # senders > 0 and receiver_open: what _qsize, on every call, needs

    def _put(self, item: tuple[Sender, object]) -> None:
        handle, value = item
        if handle.closed:
            raise HandleClosed(value=value)
        if not self.receiver_open:
            raise Disconnected(value=value)
        self.queue.append(value)

    def _qsize(self) -> int:
        # An empty buffer reads as one item once nothing more can arrive or be received, so
        # that a waiting Queue.get wakes and calls _get, which reports why.
        return len(self.queue) or not self.live

    def _get(self) -> object:
        if self.queue:
            return self.queue.popleft()
        if not self.receiver_open:
            raise HandleClosed()
        raise Disconnected()

    # -- the Core protocol ------------------------------------------------------------

    def send(self, handle: Sender, value: object, block: bool, timeout: float | None) -> None:
        deadline = None
        while True:
            try:
                self.put((handle, value), False)
                return
            except queue.Full:
                pass
            with self.not_full:  # full: judge our flags, then wait, under the one mutex
                while 0 < self.maxsize <= self._qsize():
                    if handle.closed:
                        raise HandleClosed(value=value)
                    if not self.receiver_open:
                        raise Disconnected(value=value)
                    if not block:
                        raise Full(value=value)
                    deadline = wait_step(self.not_full, timeout, deadline, value)

    def recv(self, handle: Receiver, block: bool, timeout: float | None) -> object:
        try:
            return self.get(block, timeout)
        except queue.Empty:
            raise (Timeout() if block else Empty()) from None

    def clone(self, handle: Sender) -> Sender:
        with self.mutex:
            if handle.closed:
                raise HandleClosed("cannot clone a closed sender")
            self.senders += 1
            return Sender(self)

    def close_sender(self, handle: Sender) -> None:
        with self.mutex:
            if handle.closed:
                return
            handle.closed = True
            self.senders -= 1
            self.live = self.senders > 0 and self.receiver_open
            self.not_full.notify_all()  # a send blocked through this handle (rule 12)
            self.not_empty.notify_all()  # receivers, if that was the last sender (rule 5)

    def close_receiver(self, handle: Receiver) -> None:
        with self.mutex:
            if handle.closed:
                return
            handle.closed = True
            self.receiver_open = self.live = False
            self.queue.clear()  # discarded: the channel keeps no reference (rule 9)
            self.not_full.notify_all()
            self.not_empty.notify_all()


def channel(capacity: int | None = None) -> tuple[Sender, Receiver]:
    """A new channel: ``None`` unbounded or ``k > 0`` bounded; rendezvous is not offered."""
    core = _Core(maxsize=validate_capacity(capacity, _OFFERED) or 0)
    return Sender(core), Receiver(core)


channel.capacities = _OFFERED  # type: ignore[attr-defined]
