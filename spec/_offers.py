"""What an implementation declares it offers: capacities, optional features, known deviations.

The contract has a core every channel must honour and a few parts a real library may simply
not have: Rust's ``std`` ``SyncSender`` has no ``send`` with a timeout, Go channels have no
receiver close, OCaml's ``Event`` channels never disconnect.  Such an implementation is still
worth judging on everything else, so it declares what it lacks and the suite never generates
it: a missing feature is *not offered*, not a failure.  A :class:`Deviation`, by contrast, is
a known *difference* in something the implementation does offer; declaring it excuses nothing
(the suite still reports it), it only lets reports say whether the library documents it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from spec._contract import ALL_CAPACITIES, Capacities
from spec._model import Rule

__all__ = ["EVERYTHING", "RUNTIMES", "Deviation", "Feature", "LibraryMissing", "Offers", "offers_of"]

RUNTIMES: Final = ("threads", "asyncio", "trio")
"""How an implementation's calls are made: plain blocking calls from threads (the sync
contract), or coroutines awaited in an asyncio or trio event loop (the async contract)."""


class LibraryMissing(ImportError):
    """Raised by an adapter's factory when the third-party library it adapts is not
    installed.  The suite reports such a target as *skipped*, naming the library, never as
    an error: the adapters are optional extras."""

    def __init__(self, library: str, hint: str = "") -> None:
        self.library = library
        super().__init__(f"{library} is not installed{'; ' + hint if hint else ''} "
                         f"(pip install 'mpsc-conformance[libraries]' installs every adapted library)")


class Feature(enum.Enum):
    """The optional parts of the contract.  The value says what the part is."""

    SEND_TIMEOUT = "send(v, timeout=s)"
    RECV_TIMEOUT = "recv(timeout=s)"
    TRY_SEND = "try_send(v)"
    TRY_RECV = "try_recv()"
    CLONE = "clone()"
    DISCONNECT = "closing the last sender disconnects the receiver (rule 5)"
    CLOSE_RECEIVER = "closing the receiver (rule 6)"
    CLOSE_WHILE_BLOCKED = "closing a handle while another thread is blocked in a call through it (rule 12)"

    @classmethod
    def parse(cls, name: str) -> Feature:
        """``"send_timeout"`` -> ``Feature.SEND_TIMEOUT`` (the spelling drivers use)."""
        try:
            return cls[name.upper()]
        except KeyError:
            known = ", ".join(f.name.lower() for f in cls)
            raise ValueError(f"unknown feature {name!r}; known features: {known}") from None


@dataclass(frozen=True)
class Deviation:
    """A known difference from the model in something offered.  ``documented`` says where
    the library documents it (a URL or a section name); empty means undocumented."""

    rule: Rule
    text: str
    documented: str = ""


@dataclass(frozen=True)
class Offers:
    """An implementation's declaration, set as ``channel.offers = Offers(...)``."""

    capacities: Capacities = ALL_CAPACITIES
    missing: frozenset[Feature] = field(default_factory=frozenset)
    library: str = ""
    version: str = ""
    deviations: tuple[Deviation, ...] = ()
    runtime: str = "threads"

    def __post_init__(self) -> None:
        if not isinstance(self.capacities, Capacities):
            raise TypeError(f"Offers.capacities must be a spec.Capacities, not {type(self.capacities).__name__}")
        bad = [m for m in self.missing if not isinstance(m, Feature)]
        if bad:
            raise TypeError(f"Offers.missing must hold spec.Feature members, not {bad!r}")
        object.__setattr__(self, "missing", frozenset(self.missing))
        if self.runtime not in RUNTIMES:
            raise ValueError(f"Offers.runtime must be one of {', '.join(RUNTIMES)}, not {self.runtime!r}")

    def has(self, feature: Feature) -> bool:
        return feature not in self.missing

    def describe_missing(self) -> str:
        return ", ".join(f.value for f in Feature if f in self.missing) or "nothing"


EVERYTHING: Final = Offers()
"""The declaration of a factory that declares nothing: every capacity and feature."""


def offers_of(factory: Callable[..., Any]) -> Offers:
    """The factory's declaration: its ``offers``, else its ``capacities``, else everything.
    A malformed declaration is a ``TypeError`` saying what was expected."""
    offers = getattr(factory, "offers", None)
    if offers is not None:
        if not isinstance(offers, Offers):
            raise TypeError(f"{getattr(factory, '__name__', factory)!r}.offers must be a spec.Offers, "
                            f"not {type(offers).__name__}")
        return offers
    capacities = getattr(factory, "capacities", ALL_CAPACITIES)
    if not isinstance(capacities, Capacities):
        raise TypeError(f"{getattr(factory, '__name__', factory)!r}.capacities must be a spec.Capacities, "
                        f"not {type(capacities).__name__}")
    return Offers(capacities=capacities)
