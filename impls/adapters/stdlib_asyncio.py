"""``asyncio.Queue`` (Python 3.13+) as an async MPSC channel, through ``shutdown()``.

The asyncio twin of ``stdlib_queue``: the last sender's close is ``shutdown()`` (``get`` drains,
then raises ``QueueShutDown``), the receiver's close is ``shutdown(immediate=True)``.
``asyncio.Queue(0)`` is unbounded, so rendezvous is not offered.  A timeout is ``asyncio.timeout``
around ``await put``/``await get`` (``timeout=0``: ``put_nowait``/``get_nowait``).  Before 3.13 the
adapter is a clean skip.
"""

from __future__ import annotations

import sys

from impls.adapters._common import NeedsPython, python_version
from impls.adapters._queue_like import AsyncQueueReceiver, AsyncQueueSender, QueueErrors, async_pair, shutdowns
from spec import Capacities, Feature, Offers, validate_capacity

__all__ = ["channel"]

_CAPACITIES = Capacities(unbounded=True, bounded=True, rendezvous=False)


def channel(capacity: int | None = None) -> tuple[AsyncQueueSender, AsyncQueueReceiver]:
    """An ``asyncio.Queue(maxsize=capacity or 0)`` behind counted handles; call it in the loop."""
    if sys.version_info < (3, 13):
        raise NeedsPython("asyncio.Queue.shutdown()", (3, 13))
    import asyncio

    q: asyncio.Queue[object] = asyncio.Queue(maxsize=validate_capacity(capacity, _CAPACITIES) or 0)
    errors = QueueErrors(asyncio.QueueEmpty, asyncio.QueueFull, asyncio.QueueShutDown)
    return async_pair(q, errors, *shutdowns(q.shutdown))


channel.offers = Offers(  # type: ignore[attr-defined]
    capacities=_CAPACITIES,
    missing=frozenset({Feature.CLOSE_WHILE_BLOCKED}),
    library="asyncio.Queue",
    version=python_version(),
    runtime="asyncio",
)
