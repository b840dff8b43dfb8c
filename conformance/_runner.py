"""Running the suite against a target: verdicts as data, rendered elsewhere.

One :func:`run` serves the command line, the pytest plugin and library users.  It returns
a :class:`Verdict` per check; nothing here prints.
"""

from __future__ import annotations

import contextlib
import enum
import io
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis.stateful import run_state_machine_as_test

from conformance._concurrent_suite import ConcurrentReport, concurrent_unsupported, run_concurrent
from conformance._profiles import concurrent_settings, profile_settings
from conformance._sequential import NonConformance, Report, sequential_machine
from conformance._target import Target, callable_factory

__all__ = ["DEFAULT_CAPACITIES", "Status", "Verdict", "check_arguments", "run", "run_concurrent_check",
           "run_sequential"]

DEFAULT_CAPACITIES: tuple[int | None, ...] = (None, 0, 1, 2, 5)


class Status(enum.Enum):
    PASSED = "passed"
    FAILED = "FAILED"
    NOT_OFFERED = "not offered"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Verdict:
    """The result of one check.  ``report`` is the evidence of a failure."""

    check: str
    status: Status
    seconds: float = 0.0
    examples: int = 0
    report: Report | ConcurrentReport | None = None
    problems: tuple[str, ...] = ()
    found_seconds: float | None = None  # a failure: when it was first seen (before confirming, shrinking)
    hypothesis_output: str = field(default="", repr=False)

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED


def run(target: Target, capacities: Sequence[int | None] = DEFAULT_CAPACITIES, *,
        profile: str, max_examples: int | None = None, randomize: bool = False) -> list[Verdict]:
    """The whole suite: argument checks, the sequential machine per capacity, then (for
    capacities that passed it) the concurrent suite.  ``randomize`` draws fresh examples even
    where the profile is derandomised (CI), and uses no example database."""
    overrides: dict[str, Any] = {} if max_examples is None else {"max_examples": max_examples}
    if randomize:
        overrides.update(derandomize=False, database=None)
    verdicts = [check_arguments(target, capacities)]
    sequential = [run_sequential(target, c, profile=profile, **overrides) for c in capacities]
    verdicts += sequential
    for capacity, seq in zip(capacities, sequential, strict=True):
        if seq.status is Status.FAILED:
            verdicts.append(Verdict(f"concurrent, capacity {capacity!r}", Status.SKIPPED,
                                    problems=("the sequential suite already fails at this capacity",)))
        else:
            verdicts.append(run_concurrent_check(target, capacity, profile=profile, **overrides))
    return verdicts


def run_concurrent_check(target: Target, capacity: int | None, *, profile: str, **settings_overrides: Any) -> Verdict:
    """Real-thread scenarios for one capacity; histories checked; hangs bounded."""
    name = f"concurrent, capacity {capacity!r}"
    if not target.offers(capacity):
        return Verdict(name, Status.NOT_OFFERED)
    unsupported = concurrent_unsupported(target.declared)
    if unsupported:
        return Verdict(name, Status.NOT_OFFERED, problems=(unsupported,))
    start = time.monotonic()
    report, seen = run_concurrent(target.factory, capacity, target=target.name,
                                  hypothesis_settings=concurrent_settings(profile, **settings_overrides),
                                  offers=target.declared)
    status = Status.FAILED if report is not None else Status.PASSED
    found = None if seen.found_at is None or report is None else seen.found_at - start
    return Verdict(name, status, time.monotonic() - start, seen.examples, report, found_seconds=found)


def run_sequential(target: Target, capacity: int | None, *, profile: str,
                   max_examples: int | None = None, **settings_overrides: Any) -> Verdict:
    """The lockstep state machine for one capacity, under the named profile (with any
    Hypothesis settings overridden, e.g. ``phases`` to skip shrinking)."""
    name = f"sequential, capacity {capacity!r}"
    if not target.offers(capacity):
        return Verdict(name, Status.NOT_OFFERED)
    machine = sequential_machine(callable_factory(target), capacity, target.name, target.declared)
    runs = [0]
    original_init = machine.__init__

    def counting_init(self: object) -> None:
        runs[0] += 1
        original_init(self)  # type: ignore[arg-type]

    machine.__init__ = counting_init  # type: ignore[method-assign]
    overrides = dict(settings_overrides)
    if max_examples is not None:
        overrides["max_examples"] = max_examples
    chatter = io.StringIO()
    start = time.monotonic()
    try:
        with contextlib.redirect_stdout(chatter):
            run_state_machine_as_test(  # type: ignore[no-untyped-call,unused-ignore]  # typed in newer Hypothesis
                machine, settings=profile_settings(profile, **overrides))
    except NonConformance as failure:
        found = None if machine.found_at is None else machine.found_at - start
        return Verdict(name, Status.FAILED, time.monotonic() - start, runs[0], failure.report,
                       hypothesis_output=chatter.getvalue(), found_seconds=found)
    except Exception as exc:  # Hypothesis's Flaky*: the failure did not reproduce while shrinking
        if machine.first_report is None:
            raise
        found = None if machine.found_at is None else machine.found_at - start
        return Verdict(name, Status.FAILED, time.monotonic() - start, runs[0], machine.first_report,
                       problems=(f"the failure did not reproduce every time while being shrunk "
                                 f"({type(exc).__name__}); this is the first one seen, unshrunk",),
                       hypothesis_output=chatter.getvalue(), found_seconds=found)
    return Verdict(name, Status.PASSED, time.monotonic() - start, runs[0])


# Capacity arguments every factory must refuse, with the exception the contract names.
_BAD_CAPACITIES: tuple[tuple[object, type[Exception]], ...] = (
    (-1, ValueError),
    (1.5, TypeError),
    (math.inf, TypeError),
    ("1", TypeError),
    (True, TypeError),
)


def check_arguments(target: Target, capacities: Iterable[int | None]) -> Verdict:
    """``channel(capacity)`` refuses bad capacities (ValueError/TypeError) and those it does
    not offer (ValueError), instead of building a channel that misbehaves later."""
    start = time.monotonic()
    problems = []
    cases = list(_BAD_CAPACITIES) + [(c, ValueError) for c in capacities if not target.offers(c)]
    for capacity, expected in cases:
        what = f"{target.name}({capacity!r})"
        try:
            pair = callable_factory(target)(capacity)
        except expected:
            continue
        except Exception as exc:
            problems.append(f"{what} raised {type(exc).__name__}: {exc}; expected {expected.__name__}")
            continue
        problems.append(f"{what} returned {pair!r}; expected {expected.__name__}")
        for handle in pair if isinstance(pair, tuple) else ():
            with contextlib.suppress(Exception):
                handle.close()
    status = Status.FAILED if problems else Status.PASSED
    return Verdict("capacity arguments", status, time.monotonic() - start, len(cases), problems=tuple(problems))
