"""trio's memory channels (``trio.open_memory_channel``) as an async MPSC channel.

trio has everything the contract names, natively: clone and an idempotent close per handle,
rendezvous at 0 (``math.inf`` for unbounded), and the rule-12 choices the model copies (closing
a handle wakes a call blocked through it with ``ClosedResourceError``).  The adapter only renames:

=============================  ==========================================================
trio                           contract
=============================  ==========================================================
``WouldBlock``                 ``Full`` from ``try_send``, ``Empty`` from ``try_recv`` (one
                               name for both in trio; the call says which)
``BrokenResourceError``        ``Disconnected(value=v)`` (the receiver is gone)
``EndOfChannel``               ``Disconnected()`` (every sender closed, buffer drained)
``ClosedResourceError``        ``HandleClosed`` (this handle was closed)
``move_on_after`` expiring     ``Timeout``
=============================  ==========================================================

``timeout=0`` is trio's ``*_nowait`` (one attempt): under ``move_on_after(0)`` trio would cancel
at the call's first checkpoint even when a message is ready, which is trio's cancellation rule,
not a channel outcome.  For the same reason a timed call whose deadline passes at that first
checkpoint raises ``Timeout`` even where the model gives another outcome (``HandleClosed`` on a
closed handle, say): declared as the documented deviation ``CHECKPOINT_FIRST``.  Handles are not
closed by garbage collection, in trio as here.
"""

from __future__ import annotations

import math
from typing import Any

from impls.adapters._common import (
    CHECKPOINT_FIRST,
    AsyncReceiverMixin,
    Closable,
    distribution_version,
    require,
    seconds,
)
from spec import Disconnected, Empty, Full, HandleClosed, Offers, Timeout, validate_capacity

__all__ = ["Receiver", "Sender", "channel"]


class Sender(Closable):
    """A ``trio.MemorySendChannel``."""

    __slots__ = ("__weakref__", "_trio", "raw")

    def __init__(self, trio: Any, raw: Any) -> None:
        self._trio = trio
        self.raw = raw

    async def send(self, value: object, timeout: float | None = None) -> None:
        wait = seconds(timeout)
        trio = self._trio
        try:
            if wait == 0:
                self.raw.send_nowait(value)
                return
            if wait is None:
                await self.raw.send(value)
                return
            with trio.move_on_after(wait):
                await self.raw.send(value)
                return
            raise Timeout(value=value)
        except trio.WouldBlock:
            raise Timeout(value=value) from None
        except trio.BrokenResourceError:
            raise Disconnected(value=value) from None
        except trio.ClosedResourceError:
            raise HandleClosed(value=value) from None

    def try_send(self, value: object) -> None:
        trio = self._trio
        try:
            self.raw.send_nowait(value)
        except trio.WouldBlock:
            raise Full(value=value) from None
        except trio.BrokenResourceError:
            raise Disconnected(value=value) from None
        except trio.ClosedResourceError:
            raise HandleClosed(value=value) from None

    def clone(self) -> Sender:
        try:
            return Sender(self._trio, self.raw.clone())
        except self._trio.ClosedResourceError:
            raise HandleClosed("cannot clone a closed sender") from None

    def close(self) -> None:
        self.raw.close()


class Receiver(AsyncReceiverMixin):
    """A ``trio.MemoryReceiveChannel``."""

    __slots__ = ("__weakref__", "_trio", "raw")

    def __init__(self, trio: Any, raw: Any) -> None:
        self._trio = trio
        self.raw = raw

    async def recv(self, timeout: float | None = None) -> object:
        wait = seconds(timeout)
        trio = self._trio
        try:
            if wait == 0:
                return self.raw.receive_nowait()
            if wait is None:
                return await self.raw.receive()
            with trio.move_on_after(wait):
                return await self.raw.receive()
            raise Timeout()
        except trio.WouldBlock:
            raise Timeout() from None
        except trio.EndOfChannel:
            raise Disconnected() from None
        except trio.ClosedResourceError:
            raise HandleClosed() from None

    def try_recv(self) -> object:
        trio = self._trio
        try:
            return self.raw.receive_nowait()
        except trio.WouldBlock:
            raise Empty() from None
        except trio.EndOfChannel:
            raise Disconnected() from None
        except trio.ClosedResourceError:
            raise HandleClosed() from None

    def close(self) -> None:
        self.raw.close()


def channel(capacity: int | None = None) -> tuple[Sender, Receiver]:
    """``trio.open_memory_channel(capacity)`` (``math.inf`` for ``None``); call it inside ``trio.run``."""
    trio = require("trio")
    size = validate_capacity(capacity)
    tx, rx = trio.open_memory_channel(math.inf if size is None else size)
    return Sender(trio, tx), Receiver(trio, rx)


channel.offers = Offers(  # type: ignore[attr-defined]
    library="trio", version=distribution_version("trio"), deviations=(CHECKPOINT_FIRST,), runtime="trio")
