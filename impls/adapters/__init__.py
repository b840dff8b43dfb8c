"""Adapters: real Python channel libraries behind the contract, so the suite can judge them.

One small file per library.  Each adapter is thin: it renames calls and exceptions and, where the
library has one close for the whole channel, counts sender handles itself; it never changes what
the library does.  Each factory declares ``channel.offers = spec.Offers(...)``: the capacities and
features the library has, its name and installed version, how it is called (``runtime``), and the
known deviations (each with a reproduction under ``docs/findings/``).  The libraries are optional
(``pip install 'mpsc-conformance[libraries]'``): an adapter imports its library only when its
factory is called, and raises :class:`spec.LibraryMissing` (a skip, never an error) if it is absent.
"""

ADAPTERS: tuple[str, ...] = (
    "impls.adapters.trio_channel:channel",
    "impls.adapters.anyio_stream:asyncio_channel",
    "impls.adapters.anyio_stream:trio_channel",
    "impls.adapters.stdlib_queue:channel",
    "impls.adapters.stdlib_asyncio:channel",
    "impls.adapters.janus_queue:sync_channel",
    "impls.adapters.janus_queue:async_channel",
    "impls.adapters.culsans_queue:sync_channel",
    "impls.adapters.culsans_queue:async_channel",
    "impls.adapters.aiochannel_channel:channel",
    "impls.adapters.gevent_queue:queue_channel",
    "impls.adapters.gevent_queue:channel",
    "impls.adapters.pychanasync_channel:channel",
    "impls.adapters.pychanasync_channel:unbuffered",
)
"""Every adapter factory, as ``MODULE:FACTORY`` targets (for the matrix and the tests)."""

__all__ = ["ADAPTERS"]
