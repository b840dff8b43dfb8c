"""janus, the mixed sync/async queue, as an MPSC channel: its sync side (threads) and its async
side (asyncio) as two factories.

janus 2.0 copies Python 3.13's ``shutdown(immediate)`` on every Python, so the adapter is the
same as for ``queue.Queue``: counted senders, the last close is ``shutdown()``, the receiver's
close ``shutdown(immediate=True)`` (see ``_queue_like``).  ``janus.Queue(0)`` is unbounded, so
rendezvous is not offered.
"""

from __future__ import annotations

from impls.adapters._mixed_queue import AsyncPair, SyncPair, mixed_async, mixed_offers, mixed_sync

__all__ = ["async_channel", "sync_channel"]


def sync_channel(capacity: int | None = None) -> SyncPair:
    """``janus.Queue(capacity or 0).sync_q`` behind counted handles."""
    return mixed_sync("janus", capacity)


def async_channel(capacity: int | None = None) -> AsyncPair:
    """``janus.Queue(capacity or 0).async_q`` behind counted handles; call it in the loop."""
    return mixed_async("janus", capacity)


sync_channel.offers = mixed_offers("janus", "threads")  # type: ignore[attr-defined]
async_channel.offers = mixed_offers("janus", "asyncio")  # type: ignore[attr-defined]
