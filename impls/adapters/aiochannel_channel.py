"""aiochannel (closable asyncio queues "inspired by golang") as an async MPSC channel.

An aiochannel ``Channel`` is an ``asyncio.Queue`` with a producer-side ``close()``: after it,
``put`` raises ``ChannelClosed`` and ``get`` drains the buffer, then raises ``ChannelClosed``.
The adapter counts sender handles and closes the channel when the last one closes.  There is no
consumer-side close (a ``close()`` from the consumer would keep the buffer and still deliver it),
so receiver close is not offered: ``rx.close()`` only marks the handle closed.
``Channel(0)`` is unbounded, so rendezvous is not offered either.  ``ChannelFull``/``ChannelEmpty``
are ``Full``/``Empty``; timeouts are ``asyncio.timeout`` (``timeout=0``: ``*_nowait``).  The handles
are ``_queue_like``'s, with ``close()`` as the senders' close and none for the receiver.
"""

from __future__ import annotations

from impls.adapters._common import distribution_version, require
from impls.adapters._queue_like import AsyncQueueReceiver, AsyncQueueSender, QueueErrors, async_pair
from spec import Capacities, Feature, Offers, validate_capacity

__all__ = ["channel"]

_CAPACITIES = Capacities(unbounded=True, bounded=True, rendezvous=False)


def channel(capacity: int | None = None) -> tuple[AsyncQueueSender, AsyncQueueReceiver]:
    """``aiochannel.Channel(capacity or 0)`` behind counted handles; call it in the event loop."""
    lib = require("aiochannel")
    chan = lib.Channel(validate_capacity(capacity, _CAPACITIES) or 0)
    return async_pair(chan, QueueErrors(lib.ChannelEmpty, lib.ChannelFull, lib.ChannelClosed), chan.close, None)


channel.offers = Offers(  # type: ignore[attr-defined]
    capacities=_CAPACITIES,
    missing=frozenset({Feature.CLOSE_RECEIVER, Feature.CLOSE_WHILE_BLOCKED}),
    library="aiochannel",
    version=distribution_version("aiochannel"),
    runtime="asyncio",
)
