"""trio's memory channels (``trio.open_memory_channel``) as an async MPSC channel.

trio has everything the contract names, natively: clone and an idempotent close per handle,
rendezvous at 0 (``math.inf`` for unbounded), and the rule-12 choices the model copies (closing
a handle wakes a call blocked through it with ``ClosedResourceError``).  The adapter only renames
(the handles of ``_trio_like``, shared with ``anyio_stream``):

=============================  ==========================================================
trio                           contract
=============================  ==========================================================
``WouldBlock``                 ``Full`` from ``try_send``, ``Empty`` from ``try_recv`` (one
                               name for both in trio; the call says which)
``BrokenResourceError``        ``Disconnected(value=v)`` (the receiver is gone)
``EndOfChannel``               ``Disconnected()`` (every sender closed, buffer drained)
``ClosedResourceError``        ``HandleClosed`` (this handle was closed)
``move_on_after`` expiring     ``Timeout``
=============================  ==========================================================

``timeout=0`` is trio's ``*_nowait`` (one attempt): under ``move_on_after(0)`` trio would cancel
at the call's first checkpoint even when a message is ready, which is trio's cancellation rule,
not a channel outcome.  For the same reason a timed call whose deadline passes at that first
checkpoint raises ``Timeout`` even where the model gives another outcome (``HandleClosed`` on a
closed handle, say): declared as the documented deviation ``CHECKPOINT_FIRST``.  Handles are not
closed by garbage collection, in trio as here.
"""

from __future__ import annotations

from impls.adapters._common import distribution_version, require
from impls.adapters._trio_like import CHECKPOINT_FIRST, MemoryReceiver, MemorySender, memory_pair
from spec import Offers

__all__ = ["channel"]


def channel(capacity: int | None = None) -> tuple[MemorySender, MemoryReceiver]:
    """``trio.open_memory_channel(capacity)`` (``math.inf`` for ``None``); call it inside ``trio.run``."""
    trio = require("trio")
    return memory_pair(trio, trio.EndOfChannel, trio.open_memory_channel, capacity)


channel.offers = Offers(  # type: ignore[attr-defined]
    library="trio", version=distribution_version("trio"), deviations=(CHECKPOINT_FIRST,), runtime="trio")
