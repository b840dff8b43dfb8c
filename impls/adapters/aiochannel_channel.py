"""aiochannel (closable asyncio queues "inspired by golang") as an async MPSC channel.

An aiochannel ``Channel`` is an ``asyncio.Queue`` with a producer-side ``close()``: after it,
``put`` raises ``ChannelClosed`` and ``get`` drains the buffer, then raises ``ChannelClosed``.
The adapter counts sender handles and closes the channel when the last one closes.  There is no
consumer-side close (a ``close()`` from the consumer would keep the buffer and still deliver it),
so receiver close is not offered: ``rx.close()`` only marks the handle closed.
``Channel(0)`` is unbounded, so rendezvous is not offered either.  ``ChannelFull``/``ChannelEmpty``
are ``Full``/``Empty``; timeouts are ``asyncio.timeout`` (``timeout=0``: ``*_nowait``).
"""

from __future__ import annotations

from typing import Any

from impls.adapters._common import (
    AsyncReceiverMixin,
    Closable,
    SenderCount,
    asyncio_within,
    distribution_version,
    require,
    seconds,
)
from spec import Capacities, Disconnected, Empty, Feature, Full, HandleClosed, Offers, Timeout, validate_capacity

__all__ = ["Receiver", "Sender", "channel"]

_CAPACITIES = Capacities(unbounded=True, bounded=True, rendezvous=False)


class _Shared:
    __slots__ = ("chan", "lib", "senders")

    def __init__(self, chan: Any, lib: Any) -> None:
        self.chan = chan
        self.lib = lib
        self.senders = SenderCount()


class Sender(Closable):
    """A counted sender handle on an ``aiochannel.Channel``."""

    __slots__ = ("__weakref__", "_shared", "closed")

    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self.closed = False

    async def send(self, value: object, timeout: float | None = None) -> None:
        wait = seconds(timeout)
        if self.closed:
            raise HandleClosed(value=value)
        import asyncio

        chan, lib = self._shared.chan, self._shared.lib
        try:
            if wait == 0:
                chan.put_nowait(value)
            else:
                await asyncio_within(wait, lambda: chan.put(value))
        except (lib.ChannelFull, asyncio.TimeoutError):
            raise Timeout(value=value) from None
        except lib.ChannelClosed:
            raise (HandleClosed if self.closed else Disconnected)(value=value) from None

    def try_send(self, value: object) -> None:
        if self.closed:
            raise HandleClosed(value=value)
        lib = self._shared.lib
        try:
            self._shared.chan.put_nowait(value)
        except lib.ChannelFull:
            raise Full(value=value) from None
        except lib.ChannelClosed:
            raise (HandleClosed if self.closed else Disconnected)(value=value) from None

    def clone(self) -> Sender:
        if self.closed:
            raise HandleClosed("cannot clone a closed sender")
        self._shared.senders.add()
        return Sender(self._shared)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._shared.senders.drop():
            self._shared.chan.close()


class Receiver(AsyncReceiverMixin):
    """The receiver handle on an ``aiochannel.Channel``."""

    __slots__ = ("__weakref__", "_shared", "closed")

    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self.closed = False

    async def recv(self, timeout: float | None = None) -> object:
        wait = seconds(timeout)
        if self.closed:
            raise HandleClosed()
        import asyncio

        chan, lib = self._shared.chan, self._shared.lib
        try:
            if wait == 0:
                return chan.get_nowait()
            return await asyncio_within(wait, chan.get)
        except (lib.ChannelEmpty, asyncio.TimeoutError):
            raise Timeout() from None
        except lib.ChannelClosed:
            raise Disconnected() from None

    def try_recv(self) -> object:
        if self.closed:
            raise HandleClosed()
        lib = self._shared.lib
        try:
            return self._shared.chan.get_nowait()
        except lib.ChannelEmpty:
            raise Empty() from None
        except lib.ChannelClosed:
            raise Disconnected() from None

    def close(self) -> None:
        """Bookkeeping only: aiochannel has no consumer-side close (Feature.CLOSE_RECEIVER)."""
        self.closed = True


def channel(capacity: int | None = None) -> tuple[Sender, Receiver]:
    """``aiochannel.Channel(capacity or 0)`` behind counted handles; call it in the event loop."""
    lib = require("aiochannel")
    shared = _Shared(lib.Channel(validate_capacity(capacity, _CAPACITIES) or 0), lib)
    return Sender(shared), Receiver(shared)


channel.offers = Offers(  # type: ignore[attr-defined]
    capacities=_CAPACITIES,
    missing=frozenset({Feature.CLOSE_RECEIVER, Feature.CLOSE_WHILE_BLOCKED}),
    library="aiochannel",
    version=distribution_version("aiochannel"),
    runtime="asyncio",
)
