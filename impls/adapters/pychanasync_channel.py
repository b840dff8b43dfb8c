"""pychanasync (Go-style channels for asyncio) as an async MPSC channel.

pychanasync has one ``Channel`` object and one ``close()`` for the whole channel, meant for the
producer ("Once the producer closes the channel, the iteration ends").  The adapter counts sender
handles and calls ``close()`` when the last one closes; the receiver's close is the same
``close()`` (the library has no other).  ``ChannelClosed`` becomes ``HandleClosed`` when the
calling handle is closed, else ``Disconnected``; ``ChannelFull``/``ChannelEmpty`` are
``Full``/``Empty``.  Timeouts are ``asyncio.timeout`` around ``await push``/``await pull``, the way
its users write them (the library has none).

Two factories, because the library has two kinds of channel:

* :func:`channel`: ``Channel(bound=capacity)`` for every ``capacity >= 0`` (the library accepts 0);
  no unbounded channel exists;
* :func:`unbuffered`: ``Channel()``, the library's own rendezvous (capacity 0 only), which has no
  ``push_nowait``/``pull_nowait`` (``ChannelError``): ``try_send``/``try_recv`` are not offered.

The defects the suite finds are declared below as undocumented deviations; each has a standalone
reproduction under ``docs/findings/``.  The adapter fixes none of them.
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
from spec import (
    Capacities,
    Deviation,
    Disconnected,
    Empty,
    Feature,
    Full,
    HandleClosed,
    Offers,
    Rule,
    Timeout,
    validate_capacity,
)

__all__ = ["Receiver", "Sender", "channel", "unbuffered"]


class _Shared:
    __slots__ = ("chan", "errors", "senders")

    def __init__(self, chan: Any, errors: Any) -> None:
        self.chan = chan
        self.errors = errors  # the pychanasync.errors module
        self.senders = SenderCount()

    def close(self) -> None:
        """The channel's one ``close()``, for whichever side goes first: both sides map onto
        it, and the library's ``close()`` is not meant to be called twice (it would re-fail
        the futures it already failed)."""
        if not self.chan.closed:
            self.chan.close()


class Sender(Closable):
    """A counted sender handle on a ``pychanasync.Channel``."""

    __slots__ = ("__weakref__", "_shared", "closed")

    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self.closed = False

    async def send(self, value: object, timeout: float | None = None) -> None:
        wait = seconds(timeout)
        if self.closed:
            raise HandleClosed(value=value)
        import asyncio

        chan = self._shared.chan
        try:
            await asyncio_within(wait, lambda: chan.push(value))
        except asyncio.TimeoutError:
            raise Timeout(value=value) from None
        except self._shared.errors.ChannelClosed:
            raise (HandleClosed if self.closed else Disconnected)(value=value) from None

    def try_send(self, value: object) -> None:
        if self.closed:
            raise HandleClosed(value=value)
        errors = self._shared.errors
        try:
            self._shared.chan.push_nowait(value)
        except errors.ChannelFull:
            raise Full(value=value) from None
        except errors.ChannelClosed:
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
            self._shared.close()


class Receiver(AsyncReceiverMixin):
    """The receiver handle on a ``pychanasync.Channel``."""

    __slots__ = ("__weakref__", "_shared", "closed")

    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self.closed = False

    async def recv(self, timeout: float | None = None) -> object:
        wait = seconds(timeout)
        if self.closed:
            raise HandleClosed()
        import asyncio

        try:
            return await asyncio_within(wait, self._shared.chan.pull)
        except asyncio.TimeoutError:
            raise Timeout() from None
        except self._shared.errors.ChannelClosed:
            raise (HandleClosed if self.closed else Disconnected)() from None

    def try_recv(self) -> object:
        if self.closed:
            raise HandleClosed()
        errors = self._shared.errors
        try:
            return self._shared.chan.pull_nowait()
        except errors.ChannelEmpty:
            raise Empty() from None
        except errors.ChannelClosed:
            raise (HandleClosed if self.closed else Disconnected)() from None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._shared.close()


def _pair(bound: int | None) -> tuple[Sender, Receiver]:
    pychanasync = require("pychanasync")
    errors = require("pychanasync.errors", "pychanasync")
    shared = _Shared(pychanasync.Channel(bound), errors)
    return Sender(shared), Receiver(shared)


_BUFFERED = Capacities(unbounded=False, bounded=True, rendezvous=True)
_UNBUFFERED = Capacities(unbounded=False, bounded=False, rendezvous=True)


def channel(capacity: int | None = None) -> tuple[Sender, Receiver]:
    """``pychanasync.Channel(bound=capacity)``; call it in the event loop."""
    return _pair(validate_capacity(capacity, _BUFFERED))


def unbuffered(capacity: int | None = 0) -> tuple[Sender, Receiver]:
    """``pychanasync.Channel()``, the library's rendezvous channel (capacity 0 only)."""
    validate_capacity(capacity, _UNBUFFERED)
    return _pair(None)


_FINDINGS = "docs/findings/"
_LOSES_BUFFER = Deviation(
    Rule.SENDER_CLOSE, "close() makes pull() raise ChannelClosed at once: messages still buffered are never "
    f"delivered, and stay referenced ({_FINDINGS}pychanasync-close-loses-buffer.md)")
_SWALLOWS = Deviation(
    Rule.VALUES, "a pull() cancelled by a timeout stays registered; the next push hands its value to it and "
    f"returns, so the value is lost ({_FINDINGS}pychanasync-timeout-swallows-item.md)")
_CLOSE_CRASHES = Deviation(
    Rule.RECEIVER_CLOSE, "close() after a timed-out pull() or push() raises InvalidStateError "
    f"({_FINDINGS}pychanasync-close-after-timeout.md)")
_BOUND_ZERO = Deviation(
    Rule.RENDEZVOUS, "Channel(0) is accepted, but a push waiting first and a pull then wait for each other "
    f"forever ({_FINDINGS}pychanasync-bound-zero-deadlock.md)")
_VERSION = distribution_version("pychanasync")

channel.offers = Offers(  # type: ignore[attr-defined]
    capacities=_BUFFERED, missing=frozenset({Feature.CLOSE_WHILE_BLOCKED}), library="pychanasync",
    version=_VERSION, deviations=(_LOSES_BUFFER, _SWALLOWS, _CLOSE_CRASHES, _BOUND_ZERO), runtime="asyncio")
unbuffered.offers = Offers(  # type: ignore[attr-defined]
    capacities=_UNBUFFERED, missing=frozenset({Feature.CLOSE_WHILE_BLOCKED, Feature.TRY_SEND, Feature.TRY_RECV}),
    library="pychanasync", version=_VERSION, deviations=(_LOSES_BUFFER, _SWALLOWS, _CLOSE_CRASHES), runtime="asyncio")
