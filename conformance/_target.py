"""Turning ``MODULE:FACTORY`` into a checked factory, or a usage error that says what to fix.

Both entry points (the command line and the pytest plugin) go through :func:`load`, so the
messages are the same everywhere.  Loading also probes the factory once: a factory that
returns the wrong thing is a usage problem (exit 2), not a conformance failure (exit 1).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import Any

from spec import EVERYTHING, LibraryMissing, Offers, offers_of

__all__ = ["RECEIVER_METHODS", "SENDER_METHODS", "Target", "TargetError", "TargetMissing", "load", "make_target",
           "parse_capacity"]

SENDER_METHODS = ("send", "try_send", "clone", "close")
RECEIVER_METHODS = ("recv", "try_recv", "try_iter", "close", "__iter__")

BUNDLED = (
    "impls.condition_based:channel",
    "impls.queue_based:channel",
    "impls.rendezvous:channel",
)


class TargetError(Exception):
    """The target cannot be tested as given; the message says what to change."""


class TargetMissing(TargetError):
    """The target needs something this machine lacks (a third-party library, a driver's
    toolchain): a clean *skip* naming it, never a failure."""


@dataclass(frozen=True)
class Target:
    """A loaded factory and what it declares it offers."""

    name: str
    factory: Callable[..., Any]
    declared: Offers = EVERYTHING

    @property
    def offered(self) -> Container[object]:
        return self.declared.capacities

    def offers(self, capacity: int | None) -> bool:
        return capacity in self.declared.capacities


def load(name: str) -> Target:
    """Import and probe ``MODULE:FACTORY`` (or ``driver:...``, a channel in another
    language behind the driver protocol); raise :class:`TargetError` with advice."""
    if name.startswith("driver:"):
        from conformance._driver import load_driver_target

        return make_target(*load_driver_target(name))
    module_name, sep, attr = name.partition(":")
    if not sep or not module_name or not attr:
        raise TargetError(
            f"{name!r} is not MODULE:FACTORY; name the module and the factory function, "
            f"e.g. impls.condition_based:channel"
        )
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")  # like `python -m`: the current directory is importable
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise TargetError(
            f"cannot import module {module_name!r} ({exc}); run from the directory that "
            f"contains it, add that directory to PYTHONPATH, or pip install its package"
        ) from exc
    except Exception as exc:
        raise TargetError(f"importing {module_name!r} raised {type(exc).__name__}: {exc}") from exc
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            public = sorted(n for n in dir(obj) if not n.startswith("_") and callable(getattr(obj, n)))
            listed = ", ".join(public[:12]) + (f", ... ({len(public)} in all)" if len(public) > 12 else "")
            raise TargetError(
                f"{module_name!r} has no attribute {attr!r}; callables it has: {listed or 'none'}"
            )
        obj = getattr(obj, part)
    if not callable(obj) or isinstance(obj, type(sys)):
        raise TargetError(
            f"{name} is a {type(obj).__name__}, not a factory; expected a callable "
            f"channel(capacity) -> (sender, receiver)"
        )
    return make_target(name, obj)


def make_target(name: str, factory: Callable[..., Any], *, probe: bool = True) -> Target:
    """Read the factory's declaration and (``probe``) call it once to check its shape."""
    try:
        declared = offers_of(factory)
    except (TypeError, ValueError) as exc:
        raise TargetError(f"{name}: {exc}") from exc
    try:
        first = next(c for c in (None, 1, 0) if c in declared.capacities)
    except StopIteration:
        raise TargetError(f"{name} offers none of None, 1 or 0; nothing to test") from None
    target = Target(name, factory, declared)
    if probe:
        _probe(name, callable_factory(target), first)
    return target


def callable_factory(target: Target) -> Callable[..., Any]:
    """A factory with the sync contract: the target's own, or, for an async implementation,
    the same channels driven from threads through an event loop (``conformance._async``)."""
    if target.declared.runtime == "threads":
        return target.factory
    from conformance._async import bridge

    return bridge(target.factory, target.declared.runtime)


def _probe(name: str, factory: Callable[..., Any], capacity: int | None) -> None:
    try:
        pair = factory(capacity)
    except LibraryMissing as exc:
        raise TargetMissing(f"skipped {name}: {exc}") from exc
    except Exception as exc:
        raise TargetError(
            f"calling {name}({capacity!r}) raised {type(exc).__name__}: {exc}; a factory "
            f"takes the capacity as its one argument and returns (sender, receiver)"
        ) from exc
    try:
        tx, rx = pair
    except (TypeError, ValueError):
        raise TargetError(
            f"{name}({capacity!r}) returned {pair!r}; expected a pair (sender, receiver)"
        ) from None
    for role, handle, methods in (("sender", tx, SENDER_METHODS), ("receiver", rx, RECEIVER_METHODS)):
        missing = [m for m in methods if not callable(getattr(handle, m, None))]
        if missing:
            raise TargetError(
                f"the {role} returned by {name}({capacity!r}) ({type(handle).__name__}) lacks "
                f"{', '.join(missing)}; see the contract in README.md"
            )
    for handle in (tx, rx):
        try:
            handle.close()
        except Exception:
            pass  # the suite proper will judge close(); probing only checks the shape


def parse_capacity(text: str) -> int | None:
    """A capacity as typed on a command line: ``None``/``unbounded``, ``0`` or ``k > 0``."""
    if text.strip().lower() in ("none", "unbounded"):
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a capacity; use None (unbounded), 0 (rendezvous) or a positive int"
        ) from None
    if value < 0:
        raise ValueError(f"{value} is negative; a capacity is None, 0 or positive")
    return value
