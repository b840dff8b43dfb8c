"""What every adapter shares: importing its library on demand, naming its version, counting
sender handles where the library has one close for the whole channel, and the parts of the
handles that the contract derives from the primitive calls (iteration, ``with``).

Nothing here decides an outcome: that is the library's, and each adapter only renames it.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import platform
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import ModuleType
from typing import TypeVar

from spec import Disconnected, Empty, LibraryMissing, validate_timeout

__all__ = [
    "AsyncReceiverMixin",
    "Closable",
    "NeedsPython",
    "ReceiverMixin",
    "SenderCount",
    "asyncio_within",
    "distribution_version",
    "python_version",
    "require",
    "seconds",
]

T = TypeVar("T")


class NeedsPython(LibraryMissing):
    """The adapted API exists only on a newer Python (``queue.Queue.shutdown`` is 3.13+):
    a clean skip naming what is missing, like a library that is not installed."""

    def __init__(self, library: str, version: tuple[int, int]) -> None:
        self.library = library
        needed = ".".join(map(str, version))
        ImportError.__init__(self, f"{library} needs Python {needed} or later (this is {platform.python_version()})")


def require(module: str, distribution: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`spec.LibraryMissing` naming the PyPI distribution.
    Adapters call this from their factory, so that importing an adapter never fails."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise LibraryMissing(distribution or module, f"importing {module} failed: {exc}") from exc


def distribution_version(distribution: str) -> str:
    """The installed version, or "" when the library is not installed (the adapter is then a skip)."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ""


def python_version() -> str:
    """The version of a standard-library adapter: the interpreter's."""
    return platform.python_version()


def seconds(timeout: object) -> float | None:
    """The contract's timeout rules (``None`` and past ``TIMEOUT_MAX`` wait forever, negative or
    NaN is a ``ValueError``), applied before the library sees the argument: the adapters judge
    channel semantics, not each library's own argument conventions."""
    return None if timeout is None else validate_timeout(timeout)


class SenderCount:
    """Open sender handles of a library channel that has one close for the whole channel
    (``shutdown()``, ``close()``): the adapter's clone and close count them, and the library's
    close is called when the last one goes.  The lock makes the count safe from threads; in an
    event loop it is uncontended."""

    __slots__ = ("_lock", "open")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open = 1

    def add(self) -> None:
        with self._lock:
            self.open += 1

    def drop(self) -> bool:
        """One handle closed; ``True`` when it was the last."""
        with self._lock:
            self.open -= 1
            return self.open == 0


class Closable:
    """``with h:`` and ``async with h:`` close the handle ``h`` (either side)."""

    __slots__ = ()

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self: T) -> T:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()


class _TryIter(Closable):
    """``try_iter`` for either contract: ``try_recv`` never waits, in the sync and the async one."""

    __slots__ = ()

    def try_recv(self) -> object:
        raise NotImplementedError

    def try_iter(self) -> Iterator[object]:
        """What can be received without waiting, then stop."""
        while True:
            try:
                yield self.try_recv()
            except (Empty, Disconnected):
                return


class ReceiverMixin(_TryIter):
    """Iteration for a receiver with the sync contract's ``recv``/``try_recv``."""

    __slots__ = ()

    def recv(self, timeout: float | None = None) -> object:
        raise NotImplementedError

    def __iter__(self) -> Iterator[object]:
        """Every message until the channel is disconnected and drained."""
        while True:
            try:
                yield self.recv()
            except Disconnected:
                return


class AsyncReceiverMixin(_TryIter):
    """Iteration for a receiver with the async contract's ``await recv()``/``try_recv()``."""

    __slots__ = ()

    async def recv(self, timeout: float | None = None) -> object:
        raise NotImplementedError

    def __aiter__(self) -> AsyncIterator[object]:
        return self

    async def __anext__(self) -> object:
        try:
            return await self.recv()
        except Disconnected:
            raise StopAsyncIteration from None


async def asyncio_within(timeout: float | None, make: Callable[[], Awaitable[T]]) -> T:
    """Await ``make()`` for at most ``timeout`` seconds the way an asyncio user would
    (``asyncio.timeout``; ``wait_for`` before Python 3.11); raises ``asyncio.TimeoutError``."""
    if timeout is None:
        return await make()
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(timeout):
            return await make()
    return await asyncio.wait_for(make(), timeout)  # pragma: no cover - Python 3.10
