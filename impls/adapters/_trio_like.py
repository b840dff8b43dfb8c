"""Handles over a *trio-style memory channel*: trio's ``open_memory_channel`` and anyio's
``create_memory_object_stream``, which copies its design and its names.

Such a channel has everything the contract names, natively (clone and an idempotent close per
handle, rendezvous at 0, ``math.inf`` for unbounded), so the handles only rename its exceptions
(the table is in ``trio_channel``); the one name the libraries spell differently, the end of the
channel (trio's ``EndOfChannel``, anyio's ``EndOfStream``), is passed in.  ``timeout=0`` is the
``*_nowait`` call, and a timed call checks for cancellation first (:data:`CHECKPOINT_FIRST`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from impls.adapters._common import AsyncReceiverMixin, Closable, seconds
from spec import Deviation, Disconnected, Empty, Full, HandleClosed, Rule, Timeout, validate_capacity

__all__ = ["CHECKPOINT_FIRST", "MemoryReceiver", "MemorySender", "memory_pair"]


CHECKPOINT_FIRST = Deviation(
    Rule.TIMEOUT,
    "a timed call may raise Timeout instead of its own outcome (HandleClosed, say) when the deadline has "
    "passed by the checkpoint the library's send/receive makes before anything else",
    "trio docs, 'Checkpoints': every async function in trio's API is a checkpoint, where a cancelled "
    "(timed-out) scope raises Cancelled; anyio docs, 'Cancellation and timeouts': cancellation 'follows the "
    "model established by the trio framework'",
)
"""Shared by the trio and anyio adapters, whose timeouts are cancel scopes (``move_on_after``)."""


class MemorySender(Closable):
    """A ``trio.MemorySendChannel`` or an anyio ``MemoryObjectSendStream``; ``lib`` is the
    library's module, where the exceptions and ``move_on_after`` have the same names."""

    __slots__ = ("__weakref__", "_lib", "raw")

    def __init__(self, lib: Any, raw: Any) -> None:
        self._lib = lib
        self.raw = raw

    async def send(self, value: object, timeout: float | None = None) -> None:
        wait = seconds(timeout)
        lib = self._lib
        try:
            if wait == 0:
                self.raw.send_nowait(value)
                return
            if wait is None:
                await self.raw.send(value)
                return
            with lib.move_on_after(wait):
                await self.raw.send(value)
                return
            raise Timeout(value=value)
        except lib.WouldBlock:
            raise Timeout(value=value) from None
        except lib.BrokenResourceError:
            raise Disconnected(value=value) from None
        except lib.ClosedResourceError:
            raise HandleClosed(value=value) from None

    def try_send(self, value: object) -> None:
        lib = self._lib
        try:
            self.raw.send_nowait(value)
        except lib.WouldBlock:
            raise Full(value=value) from None
        except lib.BrokenResourceError:
            raise Disconnected(value=value) from None
        except lib.ClosedResourceError:
            raise HandleClosed(value=value) from None

    def clone(self) -> MemorySender:
        try:
            return type(self)(self._lib, self.raw.clone())
        except self._lib.ClosedResourceError:
            raise HandleClosed("cannot clone a closed sender") from None

    def close(self) -> None:
        self.raw.close()


class MemoryReceiver(AsyncReceiverMixin):
    """A ``trio.MemoryReceiveChannel`` or an anyio ``MemoryObjectReceiveStream``; ``end`` is the
    library's end-of-channel exception (the one name the two libraries spell differently)."""

    __slots__ = ("__weakref__", "_end", "_lib", "raw")

    def __init__(self, lib: Any, end: type[BaseException], raw: Any) -> None:
        self._lib = lib
        self._end = end
        self.raw = raw

    async def recv(self, timeout: float | None = None) -> object:
        wait = seconds(timeout)
        lib = self._lib
        try:
            if wait == 0:
                return self.raw.receive_nowait()
            if wait is None:
                return await self.raw.receive()
            with lib.move_on_after(wait):
                return await self.raw.receive()
            raise Timeout()
        except lib.WouldBlock:
            raise Timeout() from None
        except self._end:
            raise Disconnected() from None
        except lib.ClosedResourceError:
            raise HandleClosed() from None

    def try_recv(self) -> object:
        lib = self._lib
        try:
            return self.raw.receive_nowait()
        except lib.WouldBlock:
            raise Empty() from None
        except self._end:
            raise Disconnected() from None
        except lib.ClosedResourceError:
            raise HandleClosed() from None

    def close(self) -> None:
        self.raw.close()


def memory_pair(lib: Any, end: type[BaseException], open_channel: Callable[[float], tuple[Any, Any]],
                capacity: int | None) -> tuple[MemorySender, MemoryReceiver]:
    """Handles for ``open_channel(size)``, the library's constructor, given ``math.inf`` for an
    unbounded channel (``None``) as both libraries spell it."""
    size = validate_capacity(capacity)
    tx, rx = open_channel(math.inf if size is None else size)
    return MemorySender(lib, tx), MemoryReceiver(lib, end, rx)
