"""anyio's memory object streams (``anyio.create_memory_object_stream``) as an async MPSC
channel, on the asyncio backend and on the trio backend (two factories, one adapter).

The design is trio's memory channels, and so are the renaming and the handles (``_trio_like``):
``WouldBlock`` is ``Full``/``Empty``, ``BrokenResourceError`` is ``Disconnected(value=v)``,
``EndOfStream`` is ``Disconnected()``, ``ClosedResourceError`` is ``HandleClosed``, an expiring
``move_on_after`` is ``Timeout``; ``timeout=0`` is the ``*_nowait`` call (anyio, like trio,
cancels at the first checkpoint under an expired deadline, even with a message ready).

One difference from trio is declared (undocumented; see ``docs/findings/``): closing the last receive
stream does not clear the buffer, so items nobody can receive stay referenced while any stream object
of the channel lives (rule 9 asks that discarded messages be released).  And, as in trio, a timed
call checks for cancellation first, so a deadline that has already passed wins over the call's own
outcome (``CHECKPOINT_FIRST``, documented).
"""

from __future__ import annotations

from impls.adapters._common import distribution_version, require
from impls.adapters._trio_like import CHECKPOINT_FIRST, MemoryReceiver, MemorySender, memory_pair
from spec import Deviation, Offers, Rule

__all__ = ["asyncio_channel", "trio_channel"]


def _channel(capacity: int | None) -> tuple[MemorySender, MemoryReceiver]:
    anyio = require("anyio")
    return memory_pair(anyio, anyio.EndOfStream, anyio.create_memory_object_stream, capacity)


def asyncio_channel(capacity: int | None = None) -> tuple[MemorySender, MemoryReceiver]:
    """A memory object stream in an asyncio event loop."""
    return _channel(capacity)


def trio_channel(capacity: int | None = None) -> tuple[MemorySender, MemoryReceiver]:
    """A memory object stream inside ``trio.run`` (anyio's trio backend; needs trio installed)."""
    require("trio", "anyio[trio]")
    return _channel(capacity)


_KEEPS_BUFFER = Deviation(
    Rule.VALUES,
    "closing the last receive stream keeps the buffered items, referenced while any stream object of the "
    "channel lives, instead of discarding them as trio does (docs/findings/anyio-receive-close-keeps-buffer.md)",
)


_CANCELLED_SEND_DELIVERS = Deviation(
    Rule.VALUES,
    "a send cancelled by its timeout can still deliver its item, so the caller gets Timeout(value) for a value "
    "the receiver also gets (docs/findings/anyio-cancelled-send-delivers.md)",
)


def _offers(runtime: str) -> Offers:
    return Offers(library="anyio", version=distribution_version("anyio"),
                  deviations=(_KEEPS_BUFFER, _CANCELLED_SEND_DELIVERS, CHECKPOINT_FIRST), runtime=runtime)


asyncio_channel.offers = _offers("asyncio")  # type: ignore[attr-defined]
trio_channel.offers = _offers("trio")  # type: ignore[attr-defined]
