"""pytest plugin: ``pytest --channel-impl MODULE:FACTORY`` runs the suite in any project.

Registered through the ``pytest11`` entry point, so installing this package is enough.
Without ``--channel-impl`` it does nothing.  With it, one test item per check (argument
checks, then the sequential machine per capacity) is added to the session, each failing
with the suite's own report: the broken rule and a replayable script.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance._profiles import PROFILES, default_profile
from conformance._runner import (
    DEFAULT_CAPACITIES,
    Status,
    Verdict,
    check_arguments,
    run_concurrent_check,
    run_sequential,
)
from conformance._sequential import NonConformance
from conformance._target import Target, TargetError, load, parse_capacity

__all__ = ["pytest_addoption", "pytest_collection_modifyitems", "pytest_configure"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mpsc-conformance", "MPSC channel conformance suite")
    group.addoption("--channel-impl", action="append", default=[], metavar="MODULE:FACTORY",
                    help="run the conformance suite against this channel factory (repeatable)")
    group.addoption("--channel-capacity", action="append", default=[], metavar="C",
                    help="capacity to test (repeatable): None, 0 or k > 0; default: None 0 1 2 5")
    group.addoption("--channel-profile", choices=PROFILES, default=None,
                    help="Hypothesis effort for the suite: quick (default, or $MPSC_PROFILE) or thorough")
    group.addoption("--channel-max-examples", type=int, default=None, metavar="N",
                    help="override the profile's examples (sequential) and scenarios (concurrent) per capacity")


def _capacities(raw: list[str]) -> tuple[int | None, ...]:
    try:
        return tuple(parse_capacity(text) for text in raw) if raw else DEFAULT_CAPACITIES
    except ValueError as exc:
        raise pytest.UsageError(f"--channel-capacity: {exc}") from None


def pytest_configure(config: pytest.Config) -> None:
    names = config.getoption("channel_impl")
    if not names:
        return
    try:
        targets = [load(name) for name in names]
        profile = config.getoption("channel_profile") or default_profile()
    except (TargetError, ValueError) as exc:
        raise pytest.UsageError(f"--channel-impl: {exc}") from exc
    examples = config.getoption("channel_max_examples")
    if examples is not None and examples < 1:
        raise pytest.UsageError("--channel-max-examples must be at least 1")
    config.stash[_KEY] = (targets, _capacities(config.getoption("channel_capacity")), profile, examples)


_KEY = pytest.StashKey[tuple[list[Target], tuple[int | None, ...], str, "int | None"]]()


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    if _KEY not in config.stash:
        return
    targets, capacities, profile, examples = config.stash[_KEY]
    for target in targets:
        items.append(ConformanceItem.from_parent(
            session, name=f"conformance[{target.name}-arguments]", target=target,
            capacity=None, profile=profile, arguments=capacities, max_examples=examples))
        for concurrent in (False, True):
            for capacity in capacities:
                kind = "concurrent" if concurrent else "sequential"
                items.append(ConformanceItem.from_parent(
                    session, name=f"conformance[{target.name}-{kind}-capacity={capacity!r}]", target=target,
                    capacity=capacity, profile=profile, arguments=None, concurrent=concurrent,
                    max_examples=examples))


class ConformanceFailure(Exception):
    """A failed check, carrying the suite's rendered evidence."""


class ConformanceItem(pytest.Item):
    """One check of the suite as a pytest test."""

    def __init__(self, *, target: Target, capacity: int | None, profile: str,
                 arguments: tuple[int | None, ...] | None, concurrent: bool = False,
                 max_examples: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.concurrent = concurrent
        self.max_examples = max_examples
        self.target = target
        self.capacity = capacity
        self.profile = profile
        self.arguments = arguments

    def runtest(self) -> None:
        verdict: Verdict
        if self.arguments is not None:
            verdict = check_arguments(self.target, self.arguments)
        elif self.concurrent:
            overrides = {} if self.max_examples is None else {"max_examples": self.max_examples}
            verdict = run_concurrent_check(self.target, self.capacity, profile=self.profile, **overrides)
        else:
            verdict = run_sequential(self.target, self.capacity, profile=self.profile,
                                     max_examples=self.max_examples)
        if verdict.status is Status.NOT_OFFERED:
            pytest.skip(f"{self.target.name} does not offer capacity {self.capacity!r}")
        if verdict.failed:
            text = verdict.report.render() if verdict.report else "\n".join(verdict.problems)
            raise ConformanceFailure(text)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, (ConformanceFailure, NonConformance)):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int | None, str]:
        return self.target.name, None, self.name
