"""pychanasync (Go-style channels for asyncio) as an async MPSC channel.

pychanasync has one ``Channel`` object and one ``close()`` for the whole channel, meant for the
producer ("Once the producer closes the channel, the iteration ends").  The adapter counts sender
handles and calls ``close()`` when the last one closes; the receiver's close is the same
``close()`` (the library has no other).  ``ChannelClosed`` becomes ``HandleClosed`` when the
calling handle is closed, else ``Disconnected``; ``ChannelFull``/``ChannelEmpty`` are
``Full``/``Empty``.  Timeouts are ``asyncio.timeout`` around ``await push``/``await pull``, the way
its users write them (the library has none), ``timeout=0`` included.  The handles are ``_queue_like``'s,
with the library's calls under ``asyncio.Queue``'s names.

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

from impls.adapters._common import distribution_version, require
from impls.adapters._queue_like import AsyncQueueReceiver, AsyncQueueSender, QueueErrors, async_pair
from spec import Capacities, Deviation, Feature, Offers, Rule, validate_capacity

__all__ = ["channel", "unbuffered"]


class _AsQueue:
    """A ``pychanasync.Channel`` under the ``asyncio.Queue`` names that the queue handles call."""

    __slots__ = ("_chan", "get", "get_nowait", "put", "put_nowait")

    def __init__(self, chan: Any) -> None:
        self._chan = chan
        self.put, self.put_nowait = chan.push, chan.push_nowait
        self.get, self.get_nowait = chan.pull, chan.pull_nowait

    def close(self) -> None:
        """The channel's one ``close()``, for whichever side goes first: both sides map onto
        it, and the library's ``close()`` is not meant to be called twice (it would re-fail
        the futures it already failed)."""
        if not self._chan.closed:
            self._chan.close()


def _pair(bound: int | None) -> tuple[AsyncQueueSender, AsyncQueueReceiver]:
    pychanasync = require("pychanasync")
    errors = require("pychanasync.errors", "pychanasync")
    queue = _AsQueue(pychanasync.Channel(bound))
    return async_pair(queue, QueueErrors(errors.ChannelEmpty, errors.ChannelFull, errors.ChannelClosed),
                      queue.close, queue.close, zero_is_nowait=False)


_BUFFERED = Capacities(unbounded=False, bounded=True, rendezvous=True)
_UNBUFFERED = Capacities(unbounded=False, bounded=False, rendezvous=True)


def channel(capacity: int | None = None) -> tuple[AsyncQueueSender, AsyncQueueReceiver]:
    """``pychanasync.Channel(bound=capacity)``; call it in the event loop."""
    return _pair(validate_capacity(capacity, _BUFFERED))


def unbuffered(capacity: int | None = 0) -> tuple[AsyncQueueSender, AsyncQueueReceiver]:
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
