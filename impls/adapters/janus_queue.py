"""janus, the mixed sync/async queue, as an MPSC channel: its sync side (threads) and its async
side (asyncio) as two factories.

janus 2.0 copies Python 3.13's ``shutdown(immediate)`` on every Python, so the adapter is the
same as for ``queue.Queue``: counted senders, the last close is ``shutdown()``, the receiver's
close ``shutdown(immediate=True)`` (see ``_queue_like``).  ``janus.Queue(0)`` is unbounded, so
rendezvous is not offered.
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
    """``janus.Queue(capacity or 0).sync_q`` behind counted handles."""
    janus = require("janus")
    q = janus.Queue(validate_capacity(capacity, _CAPACITIES) or 0)
    errors = QueueErrors(janus.SyncQueueEmpty, janus.SyncQueueFull, janus.SyncQueueShutDown)
    return sync_pair(q.sync_q, errors, q.shutdown)


def async_channel(capacity: int | None = None) -> tuple[AsyncQueueSender, AsyncQueueReceiver]:
    """``janus.Queue(capacity or 0).async_q`` behind counted handles; call it in the loop."""
    janus = require("janus")
    q = janus.Queue(validate_capacity(capacity, _CAPACITIES) or 0)
    errors = QueueErrors(janus.AsyncQueueEmpty, janus.AsyncQueueFull, janus.AsyncQueueShutDown)
    return async_pair(q.async_q, errors, q.shutdown)


def _offers(runtime: str) -> Offers:
    return Offers(capacities=_CAPACITIES, missing=frozenset({Feature.CLOSE_WHILE_BLOCKED}),
                  library="janus", version=distribution_version("janus"), runtime=runtime)


sync_channel.offers = _offers("threads")  # type: ignore[attr-defined]
async_channel.offers = _offers("asyncio")  # type: ignore[attr-defined]
