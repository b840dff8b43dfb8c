"""culsans, the thread-safe async-aware queue (janus-compatible), as an MPSC channel: its sync
side (threads) and its async side (asyncio) as two factories.

Like janus it has ``shutdown(immediate)`` on every Python, so the adapter is the one of
``_queue_like``: counted senders, the last close is ``shutdown()``, the receiver's close
``shutdown(immediate=True)``.  ``culsans.Queue(0)`` is unbounded: rendezvous is not offered.
"""

from __future__ import annotations

from impls.adapters._mixed_queue import AsyncPair, SyncPair, mixed_async, mixed_offers, mixed_sync

__all__ = ["async_channel", "sync_channel"]


def sync_channel(capacity: int | None = None) -> SyncPair:
    """``culsans.Queue(capacity or 0).sync_q`` behind counted handles."""
    return mixed_sync("culsans", capacity)


def async_channel(capacity: int | None = None) -> AsyncPair:
    """``culsans.Queue(capacity or 0).async_q`` behind counted handles; call it in the loop."""
    return mixed_async("culsans", capacity)


sync_channel.offers = mixed_offers("culsans", "threads")  # type: ignore[attr-defined]
async_channel.offers = mixed_offers("culsans", "asyncio")  # type: ignore[attr-defined]
