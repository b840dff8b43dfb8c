"""Argument rules of the Python contract, written once so every implementation agrees.

Implementations call :func:`validate_capacity` from ``channel()`` and
:func:`validate_timeout` from every timed operation; the conformance suite checks that
they do.  Both raise *before* anything else happens, so a bad call changes nothing.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Final

__all__ = ["ALL_CAPACITIES", "Capacities", "validate_capacity", "validate_timeout"]


@dataclass(frozen=True)
class Capacities:
    """Which capacities an implementation offers.

    An implementation declares this as a ``capacities`` attribute on its factory, e.g.
    ``channel.capacities = Capacities(rendezvous=False)``; the suite reads it, runs only
    what is offered, and checks that the rest is refused with a ``ValueError``.  A factory
    without the attribute is taken to offer everything.
    """

    unbounded: bool = True
    bounded: bool = True
    rendezvous: bool = True

    def __contains__(self, capacity: object) -> bool:
        if capacity is None:
            return self.unbounded
        if isinstance(capacity, int) and not isinstance(capacity, bool):
            if capacity == 0:
                return self.rendezvous
            return capacity > 0 and self.bounded
        return False

    def describe(self) -> str:
        """Human words for the offered set, used in error messages."""
        parts = []
        if self.unbounded:
            parts.append("unbounded (None)")
        if self.bounded:
            parts.append("bounded (k > 0)")
        if self.rendezvous:
            parts.append("rendezvous (0)")
        return ", ".join(parts) if parts else "no capacity at all"


ALL_CAPACITIES: Final = Capacities()


def validate_capacity(capacity: object, offered: Capacities = ALL_CAPACITIES) -> int | None:
    """Check a ``channel(capacity)`` argument and return it.

    ``TypeError`` for anything but ``None`` or an ``int`` (``bool`` is refused although it
    is an ``int``: ``channel(True)`` is almost certainly a bug); ``ValueError`` for a
    negative int, and for a capacity this implementation does not offer, naming what it
    does offer.
    """
    if capacity is not None and (not isinstance(capacity, int) or isinstance(capacity, bool)):
        raise TypeError(
            f"capacity must be None (unbounded), 0 (rendezvous) or a positive int, "
            f"not {type(capacity).__name__} {capacity!r}"
        )
    if capacity is not None and capacity < 0:
        raise ValueError(
            f"capacity must be None (unbounded), 0 (rendezvous) or a positive int, not {capacity}"
        )
    if capacity not in offered:
        raise ValueError(
            f"this implementation does not offer capacity {capacity!r}; "
            f"it offers {offered.describe()}"
        )
    return capacity


def validate_timeout(timeout: object) -> float | None:
    """Check a ``timeout=`` argument; return seconds to wait, or ``None`` for "forever".

    ``None`` waits forever; ``0`` makes one attempt; negative or NaN is a ``ValueError``
    (as in the stdlib ``queue`` module); a non-number is a ``TypeError``; anything at or past
    ``threading.TIMEOUT_MAX`` (``inf`` included) waits forever instead of overflowing in
    ``Condition.wait``.
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be None or a number of seconds, not {type(timeout).__name__}")
    try:
        seconds = float(timeout)
    except OverflowError:  # an int too large for a float: "forever", or hopelessly negative
        seconds = math.inf if timeout > 0 else -math.inf
    if math.isnan(seconds):
        raise ValueError("timeout must be a number of seconds, not NaN")
    if seconds < 0:
        raise ValueError(f"timeout must be a non-negative number of seconds, not {timeout!r}")
    if seconds >= threading.TIMEOUT_MAX:
        return None
    return seconds
