"""What a history checker returns: a verdict with its evidence, never just a boolean.

Checking and reporting are separate: checkers build :class:`Finding` values; renderers
(the timeline, the command line) turn them into text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from conformance.history import Operation
from spec import Rule

__all__ = ["Finding", "Verdict3"]


class Verdict3(enum.Enum):
    """Three-valued, as in Porcupine: UNKNOWN when a search ran out of budget."""

    OK = "ok"
    VIOLATION = "violation"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Finding:
    """One check's result on one history.

    ``operations`` are the operations that witness a violation (or, for UNKNOWN, where the
    search stopped); ``cycle`` the operation ids of a cycle in an order graph, in order;
    ``window`` a time interval that matters (e.g. when the buffer was certainly full).
    """

    check: str
    verdict: Verdict3
    message: str = ""
    rule: Rule | None = None
    operations: tuple[Operation, ...] = ()
    cycle: tuple[int, ...] = ()
    window: tuple[float, float] | None = None

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict3.OK
