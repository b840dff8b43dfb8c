"""What a printed counterexample needs to run on its own: message values and checks.

A failing conformance run prints a short Python script against the implementation's own
API.  The script imports these few helpers so that it stays short and exact: ``expect``
checks one call's outcome by *identity* (rule 9: the receiver gets the same object), and
``background`` runs a blocking call on a thread, as the suite did.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from spec import NO_VALUE, ChannelError

__all__ = ["Boom", "Payload", "Unhashable", "background", "expect", "expect_value_error"]

_RETURNS_NOTHING = object()


class Payload:
    """A plain message object: weak-referenceable, so leaks can be detected."""

    __slots__ = ("__weakref__", "n")

    def __init__(self, n: int) -> None:
        self.n = n

    def __repr__(self) -> str:
        return f"Payload({self.n})"


class Boom(Exception):
    """An exception *as a message*: a channel must deliver it, never raise it."""


class Unhashable:
    """A message that cannot be hashed and compares equal to everything: a channel that
    hashes or compares messages instead of moving them will trip over it."""

    __slots__ = ("__weakref__", "n")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, n: int) -> None:
        self.n = n

    def __eq__(self, other: object) -> bool:
        return True

    def __repr__(self) -> str:
        return f"Unhashable({self.n})"


def expect(
    call: Callable[[], object],
    *,
    returns: object = _RETURNS_NOTHING,
    raises: type[ChannelError] | None = None,
    value: object = NO_VALUE,
) -> None:
    """Run ``call`` and assert its outcome: it returns ``returns`` (the very object), or
    raises ``raises`` carrying ``value`` (the very object) as ``.value``."""
    try:
        result = call()
    except ChannelError as exc:
        if raises is None or not isinstance(exc, raises):
            raise AssertionError(f"expected {_describe(returns, raises, value)}, got {exc!r}") from exc
        if value is not NO_VALUE and exc.value is not value:
            raise AssertionError(f"{type(exc).__name__}.value is {exc.value!r}, expected {value!r}") from exc
        return
    if raises is not None:
        raise AssertionError(f"expected {raises.__name__}, but the call returned {result!r}")
    if returns is not _RETURNS_NOTHING and result is not returns:
        raise AssertionError(f"expected the very object {returns!r}, got {result!r}")


def expect_value_error(call: Callable[[], object]) -> None:
    """Assert that ``call`` raises ``ValueError`` (a bad argument), not anything else."""
    try:
        result = call()
    except ValueError:
        return
    raise AssertionError(f"expected ValueError, but the call returned {result!r}")


def _describe(returns: object, raises: type[ChannelError] | None, value: object) -> str:
    if raises is not None:
        return raises.__name__ + ("" if value is NO_VALUE else f"(value={value!r})")
    return "a normal return" if returns is _RETURNS_NOTHING else f"to return {returns!r}"


class background:  # noqa: N801  (reads as a function in scripts)
    """Start ``call`` on a thread now; ``.expect(...)`` joins it and checks its outcome."""

    def __init__(self, call: Callable[[], object]) -> None:
        self._outcome: list[Callable[[], object]] = []

        def run() -> None:
            try:
                result = call()
            except ChannelError as exc:
                caught = exc

                def again() -> object:
                    raise caught

                self._outcome.append(again)
            else:
                self._outcome.append(lambda: result)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        self._thread.join(0.05)  # let it reach its wait, as the suite did

    def expect_blocked(self) -> None:
        """Assert that the call has not returned: nothing could have completed it yet."""
        self._thread.join(0.05)
        if not self._thread.is_alive():
            raise AssertionError("the background call returned although it should still block")

    def expect(self, *, timeout: float = 5.0, **outcome: object) -> None:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"the background call is still blocked after {timeout} s")
        expect(self._outcome[0], **outcome)  # type: ignore[arg-type]
