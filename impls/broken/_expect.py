"""How each broken implementation says what must catch it."""

from __future__ import annotations

from dataclasses import dataclass, field

from spec import Rule

__all__ = ["CONCURRENT_CHECKS", "Expect"]

CONCURRENT_CHECKS = frozenset({
    "well_formed", "integrity", "causality", "producer_order", "realtime_fifo", "empty", "full",
    "disconnected", "synchronisation", "linearizability", "liveness",
})
"""The concurrent suite's reasons to fail: its history checks, and ``liveness`` (threads
blocked for good).  An exception escaping into a thread (a crash) is never a right reason:
a broken implementation must be caught for its bug, not for an incidental error."""


@dataclass(frozen=True)
class Expect:
    """What must catch a broken implementation: the rules a sequential report may name,
    the concurrent checks that may flag it, and the capacities where the bug shows.
    ``concurrent_only`` bugs must pass the sequential suite: one thread cannot see them."""

    capacities: tuple[int | None, ...]
    rules: frozenset[Rule] = field(default_factory=frozenset)
    checks: frozenset[str] = field(default_factory=frozenset)
    concurrent_only: bool = False
    breaks: frozenset[Rule] = field(default_factory=frozenset)  # the rules violated (default: ``rules``)

    def __post_init__(self) -> None:
        unknown = set(self.checks) - CONCURRENT_CHECKS
        if unknown:
            raise ValueError(f"unknown concurrent checks {sorted(unknown)}; known: {sorted(CONCURRENT_CHECKS)}")
        if not self.rules and not self.checks:
            raise ValueError("an Expect names at least one rule or check")
        if self.concurrent_only and self.rules:
            raise ValueError("a concurrent-only bug is caught by checks, not by a sequential rule")
        if not self.breaks:
            if not self.rules:
                raise ValueError("name the rules a concurrent-only bug breaks (breaks=...)")
            object.__setattr__(self, "breaks", self.rules)

    def reasons(self) -> str:
        parts = [f"rule {r.number} ({r.name.lower()})" if r.number else r.name.lower() for r in
                 sorted(self.rules, key=lambda r: r.number)]
        return ", ".join(parts + sorted(self.checks))
