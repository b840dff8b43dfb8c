"""The conformance suite: judge any MPSC channel against the model in ``spec``.

Entry points: ``python -m conformance check MODULE:FACTORY``, ``python -m conformance
check-history FILE``, the pytest plugin (``pytest --channel-impl MODULE:FACTORY``), and, from
Python, :func:`check` (verdicts as data), :func:`assert_conforms` (for a project's own test
suite) and :func:`check_history` (any recorded history, see :mod:`conformance.history`).  Machinery lives in
private modules; this module only re-exports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from conformance._checks import PATTERN_CHECKS, check_patterns
from conformance._concurrent_suite import ConcurrentReport, check_history
from conformance._evidence import Finding, Verdict3
from conformance._linearizability import check_linearizable
from conformance._profiles import PROFILES, QUICK, THOROUGH, default_profile, profile_settings
from conformance._render import render_failures, render_summary
from conformance._runner import DEFAULT_CAPACITIES, Status, Verdict, run
from conformance._sequential import NonConformance, Report, sequential_machine
from conformance._target import BUNDLED, Target, TargetError, load, make_target

__all__ = [
    "BUNDLED",
    "DEFAULT_CAPACITIES",
    "PATTERN_CHECKS",
    "PROFILES",
    "QUICK",
    "THOROUGH",
    "ConcurrentReport",
    "Finding",
    "NonConformance",
    "Report",
    "Status",
    "Target",
    "TargetError",
    "Verdict",
    "Verdict3",
    "assert_conforms",
    "check",
    "check_history",
    "check_linearizable",
    "check_patterns",
    "load",
    "profile_settings",
    "sequential_machine",
]


def check(factory: Callable[..., Any] | str, capacities: Iterable[int | None] = DEFAULT_CAPACITIES,
          *, profile: str | None = None, max_examples: int | None = None) -> list[Verdict]:
    """Run the suite; ``factory`` is a callable or a ``"module:name"`` string."""
    if isinstance(factory, str):
        target = load(factory)
    else:
        name = getattr(factory, "name", None) or \
            f"{getattr(factory, '__module__', '?')}:{getattr(factory, '__qualname__', repr(factory))}"
        target = make_target(name, factory, probe=False)
    return run(target, tuple(capacities), profile=profile or default_profile(), max_examples=max_examples)


def assert_conforms(factory: Callable[..., Any] | str, capacities: Iterable[int | None] = DEFAULT_CAPACITIES,
                    *, profile: str | None = None, max_examples: int | None = None) -> None:
    """For a project's own tests: raise ``AssertionError`` with the full report on failure."""
    verdicts = check(factory, capacities, profile=profile, max_examples=max_examples)
    if any(v.failed for v in verdicts):
        name = factory if isinstance(factory, str) else getattr(factory, "__qualname__", repr(factory))
        raise AssertionError(render_summary(str(name), verdicts) + "\n\n" + render_failures(verdicts))
