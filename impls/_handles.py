"""Thin ``Sender``/``Receiver`` handles shared by the bundled implementations.

As in trio's memory channels, the handles own nothing but a reference to the shared
state (the *core*) and their own ``closed`` flag; every decision is the core's, taken
under the core's lock, so that "this handle is closed" and "an operation is blocked
through it" are judged atomically (rule 12).  An implementation file is therefore just its
core: the part worth reading.

Handles are not closed by garbage collection.  A ``__del__`` that took the core's lock
could run from the garbage collector on a thread that already holds that lock (inside
``send``, say) and deadlock it; close explicitly or use ``with``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Protocol

from spec import Disconnected, Empty, Timeout, validate_timeout

__all__ = ["Core", "Receiver", "Sender", "wait_step"]


class Core(Protocol):
    """What a channel implementation provides.  ``timeout`` is already validated:
    ``None`` means wait forever; ``block=False`` means one attempt (try_*)."""

    def send(self, handle: Sender, value: object, block: bool, timeout: float | None) -> None: ...

    def recv(self, handle: Receiver, block: bool, timeout: float | None) -> object: ...

    def clone(self, handle: Sender) -> Sender: ...

    def close_sender(self, handle: Sender) -> None: ...

    def close_receiver(self, handle: Receiver) -> None: ...


class Sender:
    """One sender handle.  Clone it for each producer; close each clone."""

    __slots__ = ("__weakref__", "_core", "closed")

    def __init__(self, core: Core) -> None:
        self._core = core
        self.closed = False  # written only by the core, under its lock

    def send(self, value: object, timeout: float | None = None) -> None:
        """Send, waiting while full (or for a receiver, at capacity 0) up to ``timeout``."""
        if timeout is None:
            self._core.send(self, value, True, None)
        else:
            self._core.send(self, value, True, validate_timeout(timeout))

    def try_send(self, value: object) -> None:
        """Send without waiting: ``Full`` if it would have to."""
        self._core.send(self, value, False, None)

    def clone(self) -> Sender:
        """A new, independent sender handle on the same channel."""
        return self._core.clone(self)

    def close(self) -> None:
        """Drop this handle; idempotent.  The last close disconnects the receiver."""
        self._core.close_sender(self)

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self._core).__name__} Sender {'closed' if self.closed else 'open'}>"


class Receiver:
    """The one receiver handle."""

    __slots__ = ("__weakref__", "_core", "closed")

    def __init__(self, core: Core) -> None:
        self._core = core
        self.closed = False

    def recv(self, timeout: float | None = None) -> object:
        """Receive, waiting up to ``timeout`` for a message or disconnection."""
        if timeout is None:
            return self._core.recv(self, True, None)
        return self._core.recv(self, True, validate_timeout(timeout))

    def try_recv(self) -> object:
        """Receive without waiting: ``Empty`` if nothing is there now."""
        return self._core.recv(self, False, None)

    def try_iter(self) -> Iterator[object]:
        """Yield what can be received without waiting, then stop."""
        while True:
            try:
                yield self._core.recv(self, False, None)
            except (Empty, Disconnected):
                return

    def __iter__(self) -> Iterator[object]:
        """Yield every message until the channel is disconnected and drained."""
        while True:
            try:
                yield self._core.recv(self, True, None)
            except Disconnected:
                return

    def close(self) -> None:
        """Drop the receiver; idempotent.  Buffered messages are discarded and senders
        (blocked ones included) get ``Disconnected`` with their value."""
        self._core.close_receiver(self)

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self._core).__name__} Receiver {'closed' if self.closed else 'open'}>"


def wait_step(
    cond: threading.Condition, timeout: float | None, deadline: float | None, *value: object
) -> float | None:
    """One wait inside a caller's ``while predicate:`` loop, lock held; returns the deadline
    to pass next time, and raises ``Timeout`` (carrying ``value`` if given) once it is due.

    The caller re-checks its predicate after every return, so a notify that races with the
    time running out is never lost: the message is taken rather than timed out on.
    """
    if timeout is None:
        cond.wait()
        return None
    if deadline is None:
        deadline = time.monotonic() + timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise Timeout(value=value[0]) if value else Timeout()
    cond.wait(remaining)
    return deadline
