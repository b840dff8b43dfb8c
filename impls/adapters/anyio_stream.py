"""anyio's memory object streams (``anyio.create_memory_object_stream``) as an async MPSC
channel, on the asyncio backend and on the trio backend (two factories, one adapter).

The design is trio's memory channels, and so is the renaming (see ``trio_channel``):
``WouldBlock`` is ``Full``/``Empty``, ``BrokenResourceError`` is ``Disconnected(value=v)``,
``EndOfStream`` is ``Disconnected()``, ``ClosedResourceError`` is ``HandleClosed``, an expiring
``move_on_after`` is ``Timeout``; ``timeout=0`` is the ``*_nowait`` call (anyio, like trio,
cancels at the first checkpoint under an expired deadline, even with a message ready).

One difference from trio is declared (undocumented; see ``docs/findings/``): closing the last receive
stream does not clear the buffer, so items nobody can receive stay referenced while any stream object
of the channel lives (rule 9 asks that discarded messages be released).  And, as in trio, a timed
call checks for cancellation first, so a deadline that has already passed wins over the call's own
outcome (``CHECKPOINT_FIRST``, documented).
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
from spec import Deviation, Disconnected, Empty, Full, HandleClosed, Offers, Rule, Timeout, validate_capacity

__all__ = ["Receiver", "Sender", "asyncio_channel", "trio_channel"]


class Sender(Closable):
    """A ``MemoryObjectSendStream``."""

    __slots__ = ("__weakref__", "_anyio", "raw")

    def __init__(self, anyio: Any, raw: Any) -> None:
        self._anyio = anyio
        self.raw = raw

    async def send(self, value: object, timeout: float | None = None) -> None:
        wait = seconds(timeout)
        anyio = self._anyio
        try:
            if wait == 0:
                self.raw.send_nowait(value)
                return
            if wait is None:
                await self.raw.send(value)
                return
            with anyio.move_on_after(wait):
                await self.raw.send(value)
                return
            raise Timeout(value=value)
        except anyio.WouldBlock:
            raise Timeout(value=value) from None
        except anyio.BrokenResourceError:
            raise Disconnected(value=value) from None
        except anyio.ClosedResourceError:
            raise HandleClosed(value=value) from None

    def try_send(self, value: object) -> None:
        anyio = self._anyio
        try:
            self.raw.send_nowait(value)
        except anyio.WouldBlock:
            raise Full(value=value) from None
        except anyio.BrokenResourceError:
            raise Disconnected(value=value) from None
        except anyio.ClosedResourceError:
            raise HandleClosed(value=value) from None

    def clone(self) -> Sender:
        try:
            return Sender(self._anyio, self.raw.clone())
        except self._anyio.ClosedResourceError:
            raise HandleClosed("cannot clone a closed sender") from None

    def close(self) -> None:
        self.raw.close()


class Receiver(AsyncReceiverMixin):
    """A ``MemoryObjectReceiveStream``."""

    __slots__ = ("__weakref__", "_anyio", "raw")

    def __init__(self, anyio: Any, raw: Any) -> None:
        self._anyio = anyio
        self.raw = raw

    async def recv(self, timeout: float | None = None) -> object:
        wait = seconds(timeout)
        anyio = self._anyio
        try:
            if wait == 0:
                return self.raw.receive_nowait()
            if wait is None:
                return await self.raw.receive()
            with anyio.move_on_after(wait):
                return await self.raw.receive()
            raise Timeout()
        except anyio.WouldBlock:
            raise Timeout() from None
        except anyio.EndOfStream:
            raise Disconnected() from None
        except anyio.ClosedResourceError:
            raise HandleClosed() from None

    def try_recv(self) -> object:
        anyio = self._anyio
        try:
            return self.raw.receive_nowait()
        except anyio.WouldBlock:
            raise Empty() from None
        except anyio.EndOfStream:
            raise Disconnected() from None
        except anyio.ClosedResourceError:
            raise HandleClosed() from None

    def close(self) -> None:
        self.raw.close()


def _channel(capacity: int | None) -> tuple[Sender, Receiver]:
    anyio = require("anyio")
    size = validate_capacity(capacity)
    tx, rx = anyio.create_memory_object_stream(math.inf if size is None else size)
    return Sender(anyio, tx), Receiver(anyio, rx)


def asyncio_channel(capacity: int | None = None) -> tuple[Sender, Receiver]:
    """A memory object stream in an asyncio event loop."""
    return _channel(capacity)


def trio_channel(capacity: int | None = None) -> tuple[Sender, Receiver]:
    """A memory object stream inside ``trio.run`` (anyio's trio backend; needs trio installed)."""
    require("trio", "anyio[trio]")
    return _channel(capacity)


_KEEPS_BUFFER = Deviation(
    Rule.VALUES,
    "closing the last receive stream keeps the buffered items, referenced while any stream object of the "
    "channel lives, instead of discarding them as trio does (docs/findings/anyio-receive-close-keeps-buffer.md)",
)


def _offers(runtime: str) -> Offers:
    return Offers(library="anyio", version=distribution_version("anyio"), deviations=(_KEEPS_BUFFER, CHECKPOINT_FIRST),
                  runtime=runtime)


asyncio_channel.offers = _offers("asyncio")  # type: ignore[attr-defined]
trio_channel.offers = _offers("trio")  # type: ignore[attr-defined]
