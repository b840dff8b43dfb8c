"""A pure-asyncio channel implementing the async contract at every capacity, rendezvous included.

The async reference: what the project's own tests drive through the async halves of the suite
without any optional dependency.  It follows trio's memory channels, as the threaded
implementations do: thin handles, one shared core, ``send`` written as the non-blocking attempt
plus a wait, and ``recv`` likewise.

Locking rule: there is none, because everything runs on the one event loop thread and the core
never awaits while its fields are inconsistent.  Each method below runs to completion between
two awaits, so each is atomic; the only awaits are on a parked task's own future.

Parked tasks are ``_Waiter`` records in two FIFO queues: *offers* (senders waiting, holding
their value) and *claims* (receivers waiting for a value).  Whoever makes progress hands over
directly, inside its own step: a send fills the oldest claim; a receive that frees a slot moves
the oldest offer's value into the buffer (at capacity 0 it takes the offer's value itself).  So
a parked task is woken with its outcome already decided, never to retry, and a wake-up cannot be
lost between a check and a wait.  Three things can end a wait, each in a loop callback or step,
so exactly one wins and the loser sees a done future:

* a partner or a close resolves the future (the value moved, or HandleClosed/Disconnected);
* the timer of a timed call fires while the future is still pending: it withdraws the waiter
  and raises ``Timeout`` (carrying the value on the send side);
* the task is cancelled (``asyncio.wait_for``, a TaskGroup, the suite's hang handling): a
  pending waiter is withdrawn, nothing happened.  A claim that was already *filled* when the
  cancellation arrived holds a message nobody will return, so it goes back to the front of the
  channel (to the next parked receiver, else the head of the buffer, even if that briefly makes
  the buffer one longer than the capacity): cancellation never loses a message.  An offer that
  was already *taken* stays delivered, as a thread's send that completed just as it was
  interrupted.

Handles are not closed by garbage collection (see ``impls/_handles.py`` for why).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
from typing import Any

from spec import (
    ALL_CAPACITIES,
    Disconnected,
    Empty,
    Full,
    HandleClosed,
    Offers,
    Timeout,
    validate_capacity,
    validate_timeout,
)

__all__ = ["Receiver", "Sender", "channel"]

_NOTHING: Any = object()
"""What a non-blocking receive attempt returns when it would have to wait (any object,
``None`` included, is a legitimate message, so it cannot mean "nothing")."""


class _Waiter:
    """A task parked in ``send`` (an offer: ``handle`` and ``value`` set) or ``recv`` (a claim)."""

    __slots__ = ("future", "handle", "value")

    def __init__(self, future: asyncio.Future[Any], handle: Sender | None = None, value: object = None) -> None:
        self.future = future
        self.handle = handle
        self.value = value


def _pop_live(queue: deque[_Waiter]) -> _Waiter | None:
    """The oldest waiter still pending; waiters whose task was cancelled are dropped on the way."""
    while queue:
        waiter = queue.popleft()
        if not waiter.future.done():
            return waiter
    return None


def _fail(waiter: _Waiter, exc: Exception) -> None:
    if not waiter.future.done():
        waiter.future.set_exception(exc)


class _Core:
    def __init__(self, capacity: int | None) -> None:
        self._capacity = capacity
        self._buffer: deque[object] = deque()
        self._offers: deque[_Waiter] = deque()  # senders parked: only while the buffer is full
        self._claims: deque[_Waiter] = deque()  # receivers parked: only while nothing is buffered or offered
        self._senders = 1
        self._receiver_open = True

    # -- sending ---------------------------------------------------------------------

    def try_send(self, handle: Sender, value: object) -> bool:
        """Send now if possible; False if the send would have to wait."""
        if handle.closed:
            raise HandleClosed(value=value)
        if not self._receiver_open:
            raise Disconnected(value=value)
        claim = _pop_live(self._claims)
        if claim is not None:  # only when the buffer is empty: FIFO is kept
            claim.future.set_result(value)
            return True
        if self._capacity is None or len(self._buffer) < self._capacity:
            self._buffer.append(value)
            return True
        return False

    async def send(self, handle: Sender, value: object, timeout: float | None) -> None:
        if self.try_send(handle, value):
            return
        if timeout == 0:
            raise Timeout(value=value)
        offer = _Waiter(asyncio.get_running_loop().create_future(), handle, value)
        self._offers.append(offer)
        try:
            await self._wait(offer, self._offers, timeout)
        finally:
            offer.value = None  # rule 9: no reference once the send is over

    # -- receiving -------------------------------------------------------------------

    def try_recv(self, handle: Receiver) -> object:
        """Receive now if possible; ``_NOTHING`` if the receive would have to wait."""
        if handle.closed:
            raise HandleClosed()
        if self._buffer:
            value = self._buffer.popleft()
            self._admit_offers()
            return value
        offer = _pop_live(self._offers)  # capacity 0: offers exist only while the buffer is full
        if offer is not None:
            value, offer.value = offer.value, None
            offer.future.set_result(None)
            return value
        if not self._senders:
            raise Disconnected()
        return _NOTHING

    async def recv(self, handle: Receiver, timeout: float | None) -> object:
        value = self.try_recv(handle)
        if value is not _NOTHING:
            return value
        if timeout == 0:
            raise Timeout()
        claim = _Waiter(asyncio.get_running_loop().create_future())
        self._claims.append(claim)
        return await self._wait(claim, self._claims, timeout)

    def _admit_offers(self) -> None:
        """A slot freed up: parked senders' values enter the buffer, oldest first."""
        while self._capacity and len(self._buffer) < self._capacity:
            offer = _pop_live(self._offers)
            if offer is None:
                return
            self._buffer.append(offer.value)
            offer.value = None
            offer.future.set_result(None)

    # -- waiting ---------------------------------------------------------------------

    async def _wait(self, waiter: _Waiter, queue: deque[_Waiter], timeout: float | None) -> Any:
        timer = None
        if timeout is not None:
            timer = asyncio.get_running_loop().call_later(timeout, self._expire, waiter, queue)
        try:
            return await waiter.future
        except asyncio.CancelledError:
            self._abandon(waiter, queue)
            raise
        finally:
            if timer is not None:
                timer.cancel()

    @staticmethod
    def _expire(waiter: _Waiter, queue: deque[_Waiter]) -> None:
        """The timer of a timed call: a Timeout, unless a partner or a close came first."""
        if not waiter.future.done():
            queue.remove(waiter)
            _fail(waiter, Timeout(value=waiter.value) if waiter.handle is not None else Timeout())

    def _abandon(self, waiter: _Waiter, queue: deque[_Waiter]) -> None:
        """The waiting task was cancelled (see the module docstring)."""
        future = waiter.future
        if not future.done() or future.cancelled():
            if waiter in queue:
                queue.remove(waiter)
            return
        if future.exception() is None and waiter.handle is None:  # a filled claim
            self._give_back(future.result())

    def _give_back(self, value: object) -> None:
        if not self._receiver_open:
            return
        claim = _pop_live(self._claims)
        if claim is not None:
            claim.future.set_result(value)
        else:
            self._buffer.appendleft(value)

    # -- handles -----------------------------------------------------------------------

    def clone(self, handle: Sender) -> Sender:
        if handle.closed:
            raise HandleClosed("cannot clone a closed sender")
        self._senders += 1
        return Sender(self)

    def close_sender(self, handle: Sender) -> None:
        if handle.closed:
            return
        handle.closed = True
        self._senders -= 1
        # Rule 12: a send parked through this handle fails now, its value undelivered.
        mine = [offer for offer in self._offers if offer.handle is handle]
        for offer in mine:
            self._offers.remove(offer)
            _fail(offer, HandleClosed(value=offer.value))
        if not self._senders:  # rule 5: nothing buffered (claims exist), nothing can come
            while self._claims:
                _fail(self._claims.popleft(), Disconnected())

    def close_receiver(self, handle: Receiver) -> None:
        if handle.closed:
            return
        handle.closed = True
        self._receiver_open = False
        self._buffer.clear()
        while self._offers:
            offer = self._offers.popleft()
            _fail(offer, Disconnected(value=offer.value))
        while self._claims:
            _fail(self._claims.popleft(), HandleClosed())


class Sender:
    """One sender handle.  Clone it for each producer task; close each clone."""

    __slots__ = ("__weakref__", "_core", "closed")

    def __init__(self, core: _Core) -> None:
        self._core = core
        self.closed = False  # written only by the core

    async def send(self, value: object, timeout: float | None = None) -> None:
        """Send, waiting while full (or for a receiver, at capacity 0) up to ``timeout`` seconds."""
        await self._core.send(self, value, validate_timeout(timeout))

    def try_send(self, value: object) -> None:
        """Send without waiting: ``Full`` if it would have to."""
        if not self._core.try_send(self, value):
            raise Full(value=value)

    def clone(self) -> Sender:
        """A new, independent sender handle on the same channel."""
        return self._core.clone(self)

    def close(self) -> None:
        """Drop this handle; idempotent.  The last close disconnects the receiver."""
        self._core.close_sender(self)

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<asyncio_based Sender {'closed' if self.closed else 'open'}>"


class Receiver:
    """The one receiver handle."""

    __slots__ = ("__weakref__", "_core", "closed")

    def __init__(self, core: _Core) -> None:
        self._core = core
        self.closed = False

    async def recv(self, timeout: float | None = None) -> object:
        """Receive, waiting up to ``timeout`` seconds for a message or disconnection."""
        return await self._core.recv(self, validate_timeout(timeout))

    def try_recv(self) -> object:
        """Receive without waiting: ``Empty`` if nothing is there now."""
        value = self._core.try_recv(self)
        if value is _NOTHING:
            raise Empty()
        return value

    def try_iter(self) -> Iterator[object]:
        """Yield what can be received without waiting, then stop."""
        while True:
            try:
                yield self.try_recv()
            except (Empty, Disconnected):
                return

    def __aiter__(self) -> Receiver:
        return self

    async def __anext__(self) -> object:
        """``async for v in rx``: every message until the channel is disconnected and drained."""
        try:
            return await self._core.recv(self, None)
        except Disconnected:
            raise StopAsyncIteration from None

    def close(self) -> None:
        """Drop the receiver; idempotent.  Buffered messages are discarded and senders
        (parked ones included) get ``Disconnected`` with their value."""
        self._core.close_receiver(self)

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Receiver:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<asyncio_based Receiver {'closed' if self.closed else 'open'}>"


def channel(capacity: int | None = None) -> tuple[Sender, Receiver]:
    """A new channel: ``None`` unbounded, ``0`` rendezvous, ``k > 0`` bounded.  Its handles are
    used from tasks of one event loop (any loop: the core binds to none until a task waits)."""
    core = _Core(validate_capacity(capacity, ALL_CAPACITIES))
    return Sender(core), Receiver(core)


channel.offers = Offers(capacities=ALL_CAPACITIES, runtime="asyncio")  # type: ignore[attr-defined]
