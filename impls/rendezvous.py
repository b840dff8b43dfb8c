"""A synchronous (rendezvous) channel in the style of OCaml's ``Event`` module.

OCaml's ``Event.sync (Event.send ch v)`` completes only when some ``Event.sync
(Event.receive ch)`` takes ``v``; nothing is ever buffered.  The channel keeps two queues
of parked parties: senders with their value and receivers with an empty slot.  An arriving
party first looks for a partner in the opposite queue and, if it finds one, completes the
exchange itself and wakes that partner; otherwise (unless it is a ``try_``) it parks.

Each parked party has its own wake-up (a ``threading.Lock`` acquired at creation and
released by whoever decides its fate), so an exchange wakes exactly one thread, unlike a
shared Condition.  Every decision (taken, handle closed, disconnected, timed out) is made
under the channel's one mutex and recorded in the party's ``state``; the woken party only
reads it.  A party whose wait timed out re-checks under the mutex, so an exchange that won
the race still counts (the value was taken: a ``Timeout`` would lose it).

Only capacity 0 is offered.  The disconnect rules (which OCaml's ``Event`` lacks) follow
the project's model: the last sender's close disconnects, the receiver's close fails
senders with their value.
"""

from __future__ import annotations

import threading
from collections import deque

from impls._handles import Receiver, Sender
from spec import Capacities, Disconnected, Empty, Full, HandleClosed, Timeout, validate_capacity

__all__ = ["Receiver", "Sender", "channel"]

_OFFERED = Capacities(unbounded=False, bounded=False, rendezvous=True)

# A parked party's fate, decided by someone else under the channel's mutex.
_WAITING, _DONE, _HANDLE_CLOSED, _DISCONNECTED = range(4)


class _Party:
    """One parked thread: its value (sender) or slot (receiver), its fate, its wake-up."""

    __slots__ = ("handle", "state", "value", "wake")

    def __init__(self, handle: Sender | Receiver, value: object = None) -> None:
        self.handle = handle
        self.value = value
        self.state = _WAITING
        self.wake = threading.Lock()
        self.wake.acquire()

    def settle(self, state: int, value: object = None) -> None:
        """Decide this party's fate and wake it (caller holds the channel mutex)."""
        self.state = state
        if state == _DONE:
            self.value = value
        self.wake.release()


class _Core:
    def __init__(self) -> None:
        self._mutex = threading.Lock()  # guards every field and every _Party.state
        self._senders_waiting: deque[_Party] = deque()
        self._receivers_waiting: deque[_Party] = deque()
        self._senders = 1
        self._receiver_open = True

    def send(self, handle: Sender, value: object, block: bool, timeout: float | None) -> None:
        with self._mutex:
            if handle.closed:
                raise HandleClosed(value=value)
            if not self._receiver_open:
                raise Disconnected(value=value)
            if self._receivers_waiting:
                self._receivers_waiting.popleft().settle(_DONE, value)
                return
            if not block:
                raise Full(value=value)
            me = _Party(handle, value)
            self._senders_waiting.append(me)
        self._park(me, self._senders_waiting, timeout)
        try:
            if me.state == _HANDLE_CLOSED:
                raise HandleClosed(value=value)
            if me.state == _DISCONNECTED:
                raise Disconnected(value=value)
            if me.state == _WAITING:
                raise Timeout(value=value)
        finally:
            me.value = None

    def recv(self, handle: Receiver, block: bool, timeout: float | None) -> object:
        with self._mutex:
            if handle.closed:
                raise HandleClosed()
            if self._senders_waiting:
                sender = self._senders_waiting.popleft()
                value = sender.value
                sender.settle(_DONE)
                return value
            if not self._senders:
                raise Disconnected()
            if not block:
                raise Empty()
            me = _Party(handle)
            self._receivers_waiting.append(me)
        self._park(me, self._receivers_waiting, timeout)
        if me.state == _HANDLE_CLOSED:
            raise HandleClosed()
        if me.state == _DISCONNECTED:
            raise Disconnected()
        if me.state == _WAITING:
            raise Timeout()
        value, me.value = me.value, None
        return value

    def _park(self, me: _Party, queue: deque[_Party], timeout: float | None) -> None:
        """Wait for our fate; on timeout, withdraw unless it was decided meanwhile."""
        if me.wake.acquire(timeout=-1 if timeout is None else timeout):
            return
        with self._mutex:
            if me.state == _WAITING:
                queue.remove(me)

    def clone(self, handle: Sender) -> Sender:
        with self._mutex:
            if handle.closed:
                raise HandleClosed("cannot clone a closed sender")
            self._senders += 1
            return Sender(self)

    def close_sender(self, handle: Sender) -> None:
        with self._mutex:
            if handle.closed:
                return
            handle.closed = True
            self._senders -= 1
            for party in [p for p in self._senders_waiting if p.handle is handle]:
                self._senders_waiting.remove(party)
                party.settle(_HANDLE_CLOSED)
            if not self._senders:
                while self._receivers_waiting:
                    self._receivers_waiting.popleft().settle(_DISCONNECTED)

    def close_receiver(self, handle: Receiver) -> None:
        with self._mutex:
            if handle.closed:
                return
            handle.closed = True
            self._receiver_open = False
            while self._senders_waiting:
                self._senders_waiting.popleft().settle(_DISCONNECTED)
            while self._receivers_waiting:  # other threads blocked on this receiver
                self._receivers_waiting.popleft().settle(_HANDLE_CLOSED)


def channel(capacity: int | None = 0) -> tuple[Sender, Receiver]:
    """A new rendezvous channel.  ``capacity`` must be 0: nothing else is offered."""
    validate_capacity(capacity, _OFFERED)
    core = _Core()
    return Sender(core), Receiver(core)


channel.capacities = _OFFERED  # type: ignore[attr-defined]
