"""``queue.Queue`` (Python 3.13+) as an MPSC channel, through ``shutdown()``.

Python 3.13 gave the stdlib queue a way to end: ``shutdown()`` (``get`` drains what is buffered,
then raises ``ShutDown``) and ``shutdown(immediate=True)`` (the buffer is discarded).  The adapter
counts sender handles and shuts the queue down gracefully when the last one closes, and at once
when the receiver closes (see ``_queue_like``).  ``Queue(0)`` means *unbounded*, and a queue
cannot make ``put`` wait for a ``get``, so rendezvous is not offered.  Before 3.13 the adapter is
a clean skip.
"""

from __future__ import annotations

import sys

from impls.adapters._common import NeedsPython, python_version
from impls.adapters._queue_like import QueueErrors, SyncQueueReceiver, SyncQueueSender, shutdowns, sync_pair
from spec import Capacities, Feature, Offers, validate_capacity

__all__ = ["channel"]

_CAPACITIES = Capacities(unbounded=True, bounded=True, rendezvous=False)


def channel(capacity: int | None = None) -> tuple[SyncQueueSender, SyncQueueReceiver]:
    """A ``queue.Queue(maxsize=capacity or 0)`` behind counted handles."""
    if sys.version_info < (3, 13):
        raise NeedsPython("queue.Queue.shutdown()", (3, 13))
    import queue

    q: queue.Queue[object] = queue.Queue(maxsize=validate_capacity(capacity, _CAPACITIES) or 0)
    return sync_pair(q, QueueErrors(queue.Empty, queue.Full, queue.ShutDown), *shutdowns(q.shutdown))


channel.offers = Offers(  # type: ignore[attr-defined]
    capacities=_CAPACITIES,
    missing=frozenset({Feature.CLOSE_WHILE_BLOCKED}),
    library="queue.Queue",
    version=python_version(),
    runtime="threads",
)
