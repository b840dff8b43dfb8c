"""culsans, the thread-safe async-aware queue (janus-compatible), as an MPSC channel: its sync
side (threads) and its async side (asyncio) as two factories.

Like janus it has ``shutdown(immediate)`` on every Python, so the adapter is the one of
``_queue_like``: counted senders, the last close is ``shutdown()``, the receiver's close
``shutdown(immediate=True)``.  ``culsans.Queue(0)`` is unbounded: rendezvous is not offered.
"""

from __future__ import annotations

from impls.adapters._common import distribution_version, require
from impls.adapters._queue_like import (
    AsyncQueueReceiver,
    AsyncQueueSender,
    QueueErrors,
    SyncQueueReceiver,
    SyncQueueSender,
    async_pair,
    sync_pair,
)
from spec import Capacities, Feature, Offers, validate_capacity

__all__ = ["async_channel", "sync_channel"]

_CAPACITIES = Capacities(unbounded=True, bounded=True, rendezvous=False)


def sync_channel(capacity: int | None = None) -> tuple[SyncQueueSender, SyncQueueReceiver]:
    """``culsans.Queue(capacity or 0).sync_q`` behind counted handles."""
    culsans = require("culsans")
    q = culsans.Queue(validate_capacity(capacity, _CAPACITIES) or 0)
    errors = QueueErrors(culsans.SyncQueueEmpty, culsans.SyncQueueFull, culsans.SyncQueueShutDown)
    return sync_pair(q.sync_q, errors, q.shutdown)


def async_channel(capacity: int | None = None) -> tuple[AsyncQueueSender, AsyncQueueReceiver]:
    """``culsans.Queue(capacity or 0).async_q`` behind counted handles; call it in the loop."""
    culsans = require("culsans")
    q = culsans.Queue(validate_capacity(capacity, _CAPACITIES) or 0)
    errors = QueueErrors(culsans.AsyncQueueEmpty, culsans.AsyncQueueFull, culsans.AsyncQueueShutDown)
    return async_pair(q.async_q, errors, q.shutdown)


def _offers(runtime: str) -> Offers:
    return Offers(capacities=_CAPACITIES, missing=frozenset({Feature.CLOSE_WHILE_BLOCKED}),
                  library="culsans", version=distribution_version("culsans"), runtime=runtime)


sync_channel.offers = _offers("threads")  # type: ignore[attr-defined]
async_channel.offers = _offers("asyncio")  # type: ignore[attr-defined]
