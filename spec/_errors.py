"""The outcome exceptions every implementation raises, and the model's names for them.

Like CPython's ``queue.Empty``/``queue.Full``, each exception is tiny and its docstring
names the calls that raise it.  Send-side exceptions carry the value that was *not*
sent as ``.value``, so nothing is ever silently lost: the caller gets its object back.
"""

from __future__ import annotations

import enum
from typing import Final

__all__ = [
    "NO_VALUE",
    "ChannelError",
    "Disconnected",
    "Empty",
    "ErrorKind",
    "Full",
    "HandleClosed",
    "Timeout",
]


class _NoValue:
    """Type of :data:`NO_VALUE`; a singleton so that ``None`` can be a real message."""

    _instance: _NoValue | None = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_VALUE"

    def __reduce__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Final = _NoValue()
"""``.value`` of an exception that carries no message (the receive side)."""


class ChannelError(Exception):
    """Base of every channel outcome exception.

    ``value`` is the message the failed send did not deliver, or :data:`NO_VALUE`
    on the receive side (``None`` is a legitimate message, so it cannot mean "none").
    """

    def __init__(self, message: str | None = None, *, value: object = NO_VALUE) -> None:
        super().__init__(message if message is not None else self._default_message())
        self.value = value

    @classmethod
    def _default_message(cls) -> str:
        doc = cls.__doc__ or cls.__name__
        return doc.strip().splitlines()[0]

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only ``value`` would otherwise be lost by pickling/copying.
        return (_rebuild, (type(self), str(self), self.value))


def _rebuild(cls: type[ChannelError], message: str, value: object) -> ChannelError:
    return cls(message, value=value)


class Disconnected(ChannelError):
    """The other side is gone: send/try_send after the receiver closed (carries .value), or
    recv/try_recv once every sender closed and the buffer is drained."""


class Empty(ChannelError):
    """try_recv: nothing is buffered and no sender is waiting to hand a value over."""


class Full(ChannelError):
    """try_send: the buffer is full, or (rendezvous) no receiver is waiting; carries .value."""


class Timeout(ChannelError):
    """send/recv with a timeout: the time ran out first (send carries .value)."""


class HandleClosed(ChannelError, ValueError):
    """An operation on a handle that was already closed (a usage error, like I/O on a closed
    file). A send that fails this way carries .value."""


class ErrorKind(enum.Enum):
    """The model's closed set of failure outcomes, one per exception class."""

    DISCONNECTED = "Disconnected"
    EMPTY = "Empty"
    FULL = "Full"
    TIMEOUT = "Timeout"
    HANDLE_CLOSED = "HandleClosed"

    @property
    def exception(self) -> type[ChannelError]:
        """The exception class an implementation raises for this outcome."""
        return _EXCEPTIONS[self]

    @classmethod
    def of(cls, exc: ChannelError) -> ErrorKind:
        """The kind of an exception instance (most derived class wins)."""
        for klass in type(exc).__mro__:
            kind = _KINDS.get(klass)
            if kind is not None:
                return kind
        raise TypeError(f"{type(exc).__name__} is not one of the channel outcome exceptions")


_EXCEPTIONS: Final[dict[ErrorKind, type[ChannelError]]] = {
    ErrorKind.DISCONNECTED: Disconnected,
    ErrorKind.EMPTY: Empty,
    ErrorKind.FULL: Full,
    ErrorKind.TIMEOUT: Timeout,
    ErrorKind.HANDLE_CLOSED: HandleClosed,
}
_KINDS: Final[dict[type[ChannelError], ErrorKind]] = {v: k for k, v in _EXCEPTIONS.items()}
