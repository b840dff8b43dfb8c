"""janus and culsans: one queue with a sync side (``sync_q``, for threads) and an async side
(``async_q``, for asyncio), both with Python 3.13's ``shutdown(immediate)``, on every Python.

culsans is janus-compatible down to the names, so the two adapters differ only in the library's
name; the handles are ``_queue_like``'s, the closes are the queue's ``shutdown``.
"""

from __future__ import annotations

from impls.adapters._common import distribution_version, require
from impls.adapters._queue_like import AsyncPair, QueueErrors, SyncPair, async_pair, shutdowns, sync_pair
from spec import Capacities, Feature, Offers, validate_capacity

__all__ = ["MIXED_CAPACITIES", "AsyncPair", "SyncPair", "mixed_async", "mixed_offers", "mixed_sync"]

MIXED_CAPACITIES = Capacities(unbounded=True, bounded=True, rendezvous=False)
"""``Queue(0)`` is unbounded, so rendezvous is not offered."""


def mixed_sync(library: str, capacity: int | None) -> SyncPair:
    """``library.Queue(capacity or 0).sync_q`` behind counted handles (janus and culsans name
    everything alike)."""
    lib = require(library)
    q = lib.Queue(validate_capacity(capacity, MIXED_CAPACITIES) or 0)
    return sync_pair(q.sync_q, QueueErrors(lib.SyncQueueEmpty, lib.SyncQueueFull, lib.SyncQueueShutDown),
                     *shutdowns(q.shutdown))


def mixed_async(library: str, capacity: int | None) -> AsyncPair:
    """``library.Queue(capacity or 0).async_q`` behind counted handles; call it in the loop."""
    lib = require(library)
    q = lib.Queue(validate_capacity(capacity, MIXED_CAPACITIES) or 0)
    return async_pair(q.async_q, QueueErrors(lib.AsyncQueueEmpty, lib.AsyncQueueFull, lib.AsyncQueueShutDown),
                      *shutdowns(q.shutdown))


def mixed_offers(library: str, runtime: str) -> Offers:
    """What both sides of both libraries offer: no rendezvous, and no waking a call blocked
    through a handle when another handle of its side closes (see ``_queue_like``)."""
    return Offers(capacities=MIXED_CAPACITIES, missing=frozenset({Feature.CLOSE_WHILE_BLOCKED}),
                  library=library, version=distribution_version(library), runtime=runtime)
