"""Handles over a *queue with shutdown*: the API of ``queue.Queue`` and ``asyncio.Queue`` since
Python 3.13, which janus, culsans and gevent copy.

Such a queue has no handles: one ``shutdown()`` for everyone.  The adapter supplies what the
contract needs and the queue lacks, and nothing else:

* sender handles are counted (:class:`~impls.adapters._common.SenderCount`); the last close is
  ``shutdown()`` (graceful: ``get`` drains the buffer, then raises ``ShutDown``);
* the receiver's close is ``shutdown(immediate=True)`` (the buffer is discarded, and ``put`` and
  ``get``, blocked ones included, raise ``ShutDown``);
* each handle's own ``closed`` flag, so that an operation on a closed handle is ``HandleClosed``;
* ``ShutDown`` is renamed ``HandleClosed`` when this handle is closed, else ``Disconnected``.

A queue cannot wake a call blocked through one handle when another handle of the same side
closes (rule 12): adapters declare ``Feature.CLOSE_WHILE_BLOCKED`` missing.  A queue with no
shutdown at all (gevent's ``Channel``) passes ``shutdown=None``: closing is then bookkeeping
only, and the adapter declares disconnection and receiver close missing too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from impls.adapters._common import AsyncReceiverMixin, Closable, ReceiverMixin, SenderCount, asyncio_within, seconds
from spec import ChannelError, Disconnected, Empty, Full, HandleClosed, Timeout

__all__ = ["AsyncQueueReceiver", "AsyncQueueSender", "QueueErrors", "SyncQueueReceiver", "SyncQueueSender",
           "sync_pair", "async_pair"]


Errors = tuple[type[BaseException], ...]


@dataclass(frozen=True)
class QueueErrors:
    """The library's names for the queue outcomes (a class, or a tuple of them; none for a queue
    that cannot shut down)."""

    empty: Errors
    full: Errors
    shut_down: Errors = ()

    def __init__(self, empty: type[BaseException] | Errors, full: type[BaseException] | Errors,
                 shut_down: type[BaseException] | Errors = ()) -> None:
        for name, value in (("empty", empty), ("full", full), ("shut_down", shut_down)):
            object.__setattr__(self, name, value if isinstance(value, tuple) else (value,))


class _Shared:
    """One channel: the library's queue, its error names, and the sender count."""

    __slots__ = ("errors", "queue", "senders", "shutdown")

    def __init__(self, queue: Any, errors: QueueErrors, shutdown: Callable[[bool], None] | None) -> None:
        self.queue = queue
        self.errors = errors
        self.senders = SenderCount()
        self.shutdown = shutdown


def _gone(closed: bool, *value: object) -> ChannelError:
    """``ShutDown`` in the contract's words: this handle was closed (by another thread, while
    the call was blocked), or the other side is gone.  ``value``: the unsent message, if any."""
    kind = HandleClosed if closed else Disconnected
    return kind(value=value[0]) if value else kind()


# -- threads: queue.Queue, janus.sync_q, culsans.sync_q, gevent (marshalled) ------------------


class SyncQueueSender(Closable):
    """A counted sender handle on a blocking queue."""

    __slots__ = ("__weakref__", "_shared", "closed")

    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self.closed = False

    def send(self, value: object, timeout: float | None = None) -> None:
        wait = seconds(timeout)
        if self.closed:
            raise HandleClosed(value=value)
        errors = self._shared.errors
        try:
            self._shared.queue.put(value, True, wait)
        except errors.full:
            raise Timeout(value=value) from None
        except errors.shut_down:
            raise _gone(self.closed, value) from None

    def try_send(self, value: object) -> None:
        if self.closed:
            raise HandleClosed(value=value)
        errors = self._shared.errors
        try:
            self._shared.queue.put(value, False)
        except errors.full:
            raise Full(value=value) from None
        except errors.shut_down:
            raise _gone(self.closed, value) from None

    def clone(self) -> SyncQueueSender:
        if self.closed:
            raise HandleClosed("cannot clone a closed sender")
        self._shared.senders.add()
        return type(self)(self._shared)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._shared.senders.drop() and self._shared.shutdown is not None:
            self._shared.shutdown(False)


class SyncQueueReceiver(ReceiverMixin):
    """The receiver handle on a blocking queue."""

    __slots__ = ("__weakref__", "_shared", "closed")

    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self.closed = False

    def recv(self, timeout: float | None = None) -> object:
        wait = seconds(timeout)
        if self.closed:
            raise HandleClosed()
        errors = self._shared.errors
        try:
            return self._shared.queue.get(True, wait)
        except errors.empty:
            raise Timeout() from None
        except errors.shut_down:
            raise _gone(self.closed) from None

    def try_recv(self) -> object:
        if self.closed:
            raise HandleClosed()
        errors = self._shared.errors
        try:
            return self._shared.queue.get(False)
        except errors.empty:
            raise Empty() from None
        except errors.shut_down:
            raise _gone(self.closed) from None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._shared.shutdown is not None:
            self._shared.shutdown(True)


def sync_pair(queue: Any, errors: QueueErrors,
              shutdown: Callable[[bool], None] | None) -> tuple[SyncQueueSender, SyncQueueReceiver]:
    """Handles for a fresh blocking queue; ``shutdown(immediate)`` is the queue's own."""
    shared = _Shared(queue, errors, shutdown)
    return SyncQueueSender(shared), SyncQueueReceiver(shared)


# -- asyncio: asyncio.Queue, janus.async_q, culsans.async_q ---------------------------------


class AsyncQueueSender(Closable):
    """A counted sender handle on an asyncio-style queue (``await put``, ``put_nowait``).

    ``timeout=0`` is the queue's ``put_nowait`` (one attempt, as the contract defines it);
    a positive timeout is ``asyncio.timeout`` around ``await put``."""

    __slots__ = ("__weakref__", "_shared", "closed")

    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self.closed = False

    async def send(self, value: object, timeout: float | None = None) -> None:
        wait = seconds(timeout)
        if self.closed:
            raise HandleClosed(value=value)
        errors, queue = self._shared.errors, self._shared.queue
        try:
            if wait == 0:
                queue.put_nowait(value)
            else:
                await asyncio_within(wait, lambda: queue.put(value))
        except errors.full + (asyncio.TimeoutError,):
            raise Timeout(value=value) from None
        except errors.shut_down:
            raise _gone(self.closed, value) from None

    def try_send(self, value: object) -> None:
        if self.closed:
            raise HandleClosed(value=value)
        errors = self._shared.errors
        try:
            self._shared.queue.put_nowait(value)
        except errors.full:
            raise Full(value=value) from None
        except errors.shut_down:
            raise _gone(self.closed, value) from None

    def clone(self) -> AsyncQueueSender:
        if self.closed:
            raise HandleClosed("cannot clone a closed sender")
        self._shared.senders.add()
        return type(self)(self._shared)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._shared.senders.drop() and self._shared.shutdown is not None:
            self._shared.shutdown(False)


class AsyncQueueReceiver(AsyncReceiverMixin):
    """The receiver handle on an asyncio-style queue (``await get``, ``get_nowait``)."""

    __slots__ = ("__weakref__", "_shared", "closed")

    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self.closed = False

    async def recv(self, timeout: float | None = None) -> object:
        wait = seconds(timeout)
        if self.closed:
            raise HandleClosed()
        errors, queue = self._shared.errors, self._shared.queue
        try:
            if wait == 0:
                return queue.get_nowait()
            return await asyncio_within(wait, queue.get)
        except errors.empty + (asyncio.TimeoutError,):
            raise Timeout() from None
        except errors.shut_down:
            raise _gone(self.closed) from None

    def try_recv(self) -> object:
        if self.closed:
            raise HandleClosed()
        errors = self._shared.errors
        try:
            return self._shared.queue.get_nowait()
        except errors.empty:
            raise Empty() from None
        except errors.shut_down:
            raise _gone(self.closed) from None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._shared.shutdown is not None:
            self._shared.shutdown(True)


def async_pair(queue: Any, errors: QueueErrors,
               shutdown: Callable[[bool], None] | None) -> tuple[AsyncQueueSender, AsyncQueueReceiver]:
    """Handles for a fresh asyncio-style queue; ``shutdown(immediate)`` is the queue's own."""
    shared = _Shared(queue, errors, shutdown)
    return AsyncQueueSender(shared), AsyncQueueReceiver(shared)

