"""Handles over a *queue with shutdown*: the API of ``queue.Queue`` and ``asyncio.Queue`` since
Python 3.13, which janus, culsans and gevent copy, and aiochannel and pychanasync resemble.

Such a queue has no handles: one ``shutdown()`` for everyone.  The adapter supplies what the
contract needs and the queue lacks, and nothing else:

* sender handles are counted (:class:`~impls.adapters._common.SenderCount`); the last close is
  ``shutdown()`` (graceful: ``get`` drains the buffer, then raises ``ShutDown``);
* the receiver's close is ``shutdown(immediate=True)`` (the buffer is discarded, and ``put`` and
  ``get``, blocked ones included, raise ``ShutDown``);
* each handle's own ``closed`` flag, so that an operation on a closed handle is ``HandleClosed``;
* ``ShutDown`` is renamed ``HandleClosed`` when this handle is closed, else ``Disconnected``.

A queue cannot wake a call blocked through one handle when another handle of the same side
closes (rule 12): adapters declare ``Feature.CLOSE_WHILE_BLOCKED`` missing.  The two closes are
passed as callables (:func:`shutdowns` makes them from a queue's ``shutdown``), so that a library
with another close fits too: aiochannel's ``close()`` for the senders only (its receiver's close is
then bookkeeping, and a shut-down it sees is the senders', ``Disconnected``), pychanasync's one
``close()`` for both.  A queue with no shutdown at all (gevent's ``Channel``) passes ``None`` for
both: closing is then bookkeeping only, and the adapter declares disconnection and receiver close
missing too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from impls.adapters._common import AsyncReceiverMixin, Closable, ReceiverMixin, SenderCount, asyncio_within, seconds
from spec import ChannelError, Disconnected, Empty, Full, HandleClosed, Timeout

__all__ = ["AsyncPair", "AsyncQueueReceiver", "AsyncQueueSender", "QueueErrors", "SyncPair", "SyncQueueReceiver",
           "SyncQueueSender", "async_pair", "shutdowns", "sync_pair"]


Errors = tuple[type[BaseException], ...]
Close = Callable[[], None]


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
    """One channel: the library's queue, its error names, the sender count, and the library's
    closes (``None``: the library has none for that side)."""

    __slots__ = ("close_receiver", "close_senders", "errors", "queue", "senders", "zero_is_nowait")

    def __init__(self, queue: Any, errors: QueueErrors, close_senders: Close | None, close_receiver: Close | None,
                 zero_is_nowait: bool = True) -> None:
        self.queue = queue
        self.errors = errors
        self.senders = SenderCount()
        self.close_senders = close_senders
        self.close_receiver = close_receiver
        self.zero_is_nowait = zero_is_nowait


def shutdowns(shutdown: Callable[[bool], None]) -> tuple[Close, Close]:
    """A queue's ``shutdown(immediate)`` as the two closes: graceful for the last sender,
    immediate for the receiver."""
    return (lambda: shutdown(False)), (lambda: shutdown(True))


_S = TypeVar("_S", bound="_QueueSender")


class _QueueSender(Closable):
    """What a counted sender handle does the same way on a blocking and an asyncio-style queue."""

    __slots__ = ("__weakref__", "_shared", "closed")

    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self.closed = False

    def _gone(self, value: object) -> ChannelError:
        """``ShutDown`` in the contract's words: this handle was closed (by another thread, while
        the call was blocked), or the receiver is gone."""
        return (HandleClosed if self.closed else Disconnected)(value=value)

    def _put_nowait(self, value: object) -> None:
        raise NotImplementedError

    def try_send(self, value: object) -> None:
        if self.closed:
            raise HandleClosed(value=value)
        errors = self._shared.errors
        try:
            self._put_nowait(value)
        except errors.full:
            raise Full(value=value) from None
        except errors.shut_down:
            raise self._gone(value) from None

    def clone(self: _S) -> _S:
        if self.closed:
            raise HandleClosed("cannot clone a closed sender")
        self._shared.senders.add()
        return type(self)(self._shared)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._shared.senders.drop() and self._shared.close_senders is not None:
            self._shared.close_senders()


class _QueueReceiver(Closable):
    """What the receiver handle does the same way on a blocking and an asyncio-style queue."""

    __slots__ = ("__weakref__", "_shared", "closed")

    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self.closed = False

    def _gone(self) -> ChannelError:
        """``ShutDown`` in the contract's words: this handle was closed (when its close reaches the
        library; else the shut-down is the senders'), or every sender is gone."""
        mine = self.closed and self._shared.close_receiver is not None
        return HandleClosed() if mine else Disconnected()

    def _get_nowait(self) -> object:
        raise NotImplementedError

    def try_recv(self) -> object:
        if self.closed:
            raise HandleClosed()
        errors = self._shared.errors
        try:
            return self._get_nowait()
        except errors.empty:
            raise Empty() from None
        except errors.shut_down:
            raise self._gone() from None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._shared.close_receiver is not None:
            self._shared.close_receiver()


# -- threads: queue.Queue, janus.sync_q, culsans.sync_q, gevent (marshalled) ------------------


class SyncQueueSender(_QueueSender):
    """A counted sender handle on a blocking queue."""

    __slots__ = ()

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
            raise self._gone(value) from None

    def _put_nowait(self, value: object) -> None:
        self._shared.queue.put(value, False)


class SyncQueueReceiver(_QueueReceiver, ReceiverMixin):
    """The receiver handle on a blocking queue."""

    __slots__ = ()

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
            raise self._gone() from None

    def _get_nowait(self) -> object:
        return self._shared.queue.get(False)


SyncPair = tuple[SyncQueueSender, SyncQueueReceiver]


def sync_pair(queue: Any, errors: QueueErrors, close_senders: Close | None, close_receiver: Close | None) -> SyncPair:
    """Handles for a fresh blocking queue and the library's closes (see :func:`shutdowns`)."""
    shared = _Shared(queue, errors, close_senders, close_receiver)
    return SyncQueueSender(shared), SyncQueueReceiver(shared)


# -- asyncio: asyncio.Queue, janus.async_q, culsans.async_q, aiochannel, pychanasync -------------


class AsyncQueueSender(_QueueSender):
    """A counted sender handle on an asyncio-style queue (``await put``, ``put_nowait``).

    ``timeout=0`` is the queue's ``put_nowait`` (one attempt, as the contract defines it);
    a positive timeout is ``asyncio.timeout`` around ``await put``."""

    __slots__ = ()

    async def send(self, value: object, timeout: float | None = None) -> None:
        wait = seconds(timeout)
        if self.closed:
            raise HandleClosed(value=value)
        shared = self._shared
        errors, queue = shared.errors, shared.queue
        try:
            if wait == 0 and shared.zero_is_nowait:
                queue.put_nowait(value)
            else:
                await asyncio_within(wait, lambda: queue.put(value))
        except errors.full + (asyncio.TimeoutError,):
            raise Timeout(value=value) from None
        except errors.shut_down:
            raise self._gone(value) from None

    def _put_nowait(self, value: object) -> None:
        self._shared.queue.put_nowait(value)


class AsyncQueueReceiver(_QueueReceiver, AsyncReceiverMixin):
    """The receiver handle on an asyncio-style queue (``await get``, ``get_nowait``)."""

    __slots__ = ()

    async def recv(self, timeout: float | None = None) -> object:
        wait = seconds(timeout)
        if self.closed:
            raise HandleClosed()
        shared = self._shared
        errors, queue = shared.errors, shared.queue
        try:
            if wait == 0 and shared.zero_is_nowait:
                return queue.get_nowait()
            return await asyncio_within(wait, queue.get)
        except errors.empty + (asyncio.TimeoutError,):
            raise Timeout() from None
        except errors.shut_down:
            raise self._gone() from None

    def _get_nowait(self) -> object:
        return self._shared.queue.get_nowait()


AsyncPair = tuple[AsyncQueueSender, AsyncQueueReceiver]


def async_pair(queue: Any, errors: QueueErrors, close_senders: Close | None, close_receiver: Close | None, *,
               zero_is_nowait: bool = True) -> AsyncPair:
    """Handles for a fresh asyncio-style queue and the library's closes (see :func:`shutdowns`).
    ``zero_is_nowait=False``: ``timeout=0`` is ``asyncio.timeout(0)`` like any other timeout, for a
    library whose users write every timeout that way (pychanasync has none of its own)."""
    shared = _Shared(queue, errors, close_senders, close_receiver, zero_is_nowait)
    return AsyncQueueSender(shared), AsyncQueueReceiver(shared)
