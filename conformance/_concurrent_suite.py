"""The concurrent suite: Hypothesis-generated scenarios on real threads, histories checked.

Each example runs its scenario a few times (interleavings differ run to run) and checks
every history with the pattern checkers and, when the history is small enough to search,
with the linearizability checker.  A failure is re-run to measure how often it reproduces,
and Hypothesis shrinks the scenario as far as nondeterminism allows: because a shrunk
scenario may not fail again, the suite keeps the smallest failure it has *seen* and reports
that one, whatever Hypothesis concludes (including ``Flaky``).
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance._checks import check_patterns
from conformance._concurrent import COUNTED, ITERATE, Crash, Run, Scenario, Step, run_scenario
from conformance._evidence import Finding, Verdict3
from conformance._linearizability import check_linearizable
from conformance._timeline import describe, render_timeline
from conformance.history import History, Kind
from spec import EVERYTHING, Feature, Offers

__all__ = ["ConcurrentReport", "check_history", "describe_scenario", "run_concurrent", "scenarios"]

RUNS_PER_EXAMPLE = 3
BOUND = 2.0  # seconds for a run's threads: correct runs take milliseconds
RECHECK_BOUND = 0.5  # once a run has hung: enough to see it hang again, while confirming and shrinking
CONFIRMATIONS = 5
LINEARIZABILITY_LIMIT = 40  # operations; larger histories get the pattern checks only


def check_history(history: History, *, linearizability_limit: int = LINEARIZABILITY_LIMIT) -> list[Finding]:
    """Every check on one history: pattern checks always, the search when small enough."""
    findings = check_patterns(history)
    if len(history.operations) <= linearizability_limit:
        findings.append(check_linearizable(history))
    return findings


# -- scenarios ---------------------------------------------------------------------------

_PAUSE = st.sampled_from([0, 0, 0, 1, 1, 2, 10])
_TIMEOUT = st.sampled_from([0, 0.0005, 0.002, 0.05])


# Which optional feature each scripted call needs (spec.Offers.missing removes it).  A plain
# scripted recv needs disconnection: without it, a recv after the last send waits forever.
_NEEDS = {Kind.TRY_SEND: Feature.TRY_SEND, Kind.SEND_TIMEOUT: Feature.SEND_TIMEOUT, Kind.CLONE: Feature.CLONE,
          Kind.TRY_RECV: Feature.TRY_RECV, Kind.RECV_TIMEOUT: Feature.RECV_TIMEOUT,
          Kind.CLOSE_RECEIVER: Feature.CLOSE_RECEIVER, ITERATE: Feature.DISCONNECT, Kind.RECV: Feature.DISCONNECT}


def _offered(kinds: list[Kind | str], offers: Offers) -> list[Kind | str]:
    return [k for k in kinds if k not in _NEEDS or offers.has(_NEEDS[k])]


def _producer_steps(offers: Offers) -> st.SearchStrategy[Step]:
    send = st.builds(Step, st.sampled_from(_offered([Kind.SEND, Kind.SEND, Kind.TRY_SEND, Kind.SEND_TIMEOUT], offers)),
                     timeout=_TIMEOUT, pause=_PAUSE)
    other = st.builds(Step, st.sampled_from(_offered([Kind.CLONE, Kind.CLOSE_SENDER], offers)), pause=_PAUSE)
    return st.one_of(send, send, send, other)


def _consumer_steps(offers: Offers) -> st.SearchStrategy[Step]:
    kinds = _offered([Kind.RECV, Kind.TRY_RECV, Kind.RECV_TIMEOUT], offers)
    if not kinds:
        return st.nothing()
    return st.builds(Step, st.sampled_from(kinds), timeout=_TIMEOUT, pause=_PAUSE)


def concurrent_unsupported(offers: Offers) -> str | None:
    """Why the concurrent suite cannot run against this declaration, or None."""
    if not offers.has(Feature.CLONE):
        return "the concurrent scenarios give each producer its own clone, and clone() is not offered"
    return None


@st.composite
def scenarios(draw: st.DrawFn, capacity: int | None, max_producers: int = 4, max_steps: int = 8,
              offers: Offers = EVERYTHING) -> Scenario:
    """1 to ``max_producers`` producer scripts, a consumer script ending in iteration to
    disconnection (or, sometimes, a receiver close), sometimes a closer thread, and often
    random preemption points inside the code under test.  Only what ``offers`` offers is
    scripted; a channel that can neither disconnect nor close its receiver ends with the
    consumer receiving exactly what was sent (:data:`COUNTED`)."""
    producers = draw(st.lists(st.lists(_producer_steps(offers), min_size=1, max_size=max_steps).map(tuple),
                              min_size=1, max_size=max_producers))
    consumer = draw(st.lists(_consumer_steps(offers), max_size=max_steps))
    endings = _offered([ITERATE, ITERATE, ITERATE, Kind.CLOSE_RECEIVER], offers) or [COUNTED]
    ending = draw(st.sampled_from(endings))
    consumer.append(Step(ending, pause=draw(_PAUSE)))
    disconnects = offers.has(Feature.DISCONNECT)  # else handle 0 stays open: nothing ever disconnects
    closer = draw(st.one_of(st.none(), _PAUSE)) if disconnects else None
    preempt = draw(st.sampled_from([0.0, 0.02, 0.05, 0.2]))
    seed = draw(st.integers(0, 2**32 - 1)) if preempt else 0
    return Scenario(capacity, tuple(producers), tuple(consumer), closer, preempt, seed, close_original=disconnects)


# -- running -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ConcurrentReport:
    """Evidence of one concurrent failure: the scenario, the run, what failed, how often."""

    target: str
    scenario: Scenario
    history: History
    findings: tuple[Finding, ...] = ()
    crashes: tuple[Crash, ...] = ()
    blocked: tuple[Any, ...] = ()
    reproduced: int = 1
    attempts: int = 1

    def headline(self) -> str:
        if self.crashes:
            return f"an exception in thread {self.crashes[0].thread}"
        if self.blocked:
            return f"{len(self.blocked)} thread(s) blocked for good"
        names = ", ".join(f.check for f in self.findings)
        return f"history check failed: {names}"

    def render(self) -> str:
        lines = [f"{self.target} fails the concurrent suite at capacity {self.scenario.capacity!r}: "
                 f"{self.headline()}.",
                 f"Reproduced in {self.reproduced} of {self.attempts} runs of this scenario "
                 f"({len(self.scenario.producers)} producer(s), {self.scenario.size} scripted calls)."]
        lines += ["Scenario:"] + [f"  {line}" for line in describe_scenario(self.scenario)]
        marked: set[int] = set()
        for crash in self.crashes:
            lines += [f"Thread {crash.thread} raised during {crash.call}: {crash.error}", crash.traceback.rstrip()]
        if self.blocked:
            lines.append("Blocked when the run's time was up (every other thread had finished or is listed):")
            for op in self.blocked:
                lines.append(f"  thread {op.thread}: {describe(op)}")
                marked.add(op.id)
        for f in self.findings:
            rule = f" [{f.rule}]" if f.rule is not None else ""
            lines.append(f"Check {f.check!r}{rule}: {f.message}")
            if f.cycle:
                lines.append(f"  cycle: {' -> '.join(str(i) for i in f.cycle)}")
            if f.window is not None:
                lines.append(f"  window: {f.window[0]} .. {f.window[1]}")
            marked.update(op.id for op in f.operations)
            marked.update(f.cycle)
        lines += ["", render_timeline(self.history, marked)]
        return "\n".join(lines)


@dataclass
class _Seen:
    best: ConcurrentReport | None = None
    examples: int = 0
    runs: int = 0
    found_at: float | None = None  # time.monotonic() of the first failure, before confirming and shrinking


def _judge(target: str, scenario: Scenario, run: Run) -> ConcurrentReport | None:
    if run.crashes or run.blocked:
        return ConcurrentReport(target, scenario, run.history, crashes=tuple(run.crashes),
                                blocked=tuple(run.blocked))
    bad = tuple(f for f in check_history(run.history) if f.verdict is Verdict3.VIOLATION)
    return ConcurrentReport(target, scenario, run.history, findings=bad) if bad else None


def run_concurrent(factory: Callable[..., Any], capacity: int | None, *, target: str,
                   hypothesis_settings: settings, bound: float = BOUND,
                   runs_per_example: int = RUNS_PER_EXAMPLE,
                   offers: Offers = EVERYTHING) -> tuple[ConcurrentReport | None, _Seen]:
    """Generate and run scenarios; return the smallest confirmed failure, or None."""
    seen = _Seen()
    bounds = [bound]
    run_one = _scenario_runner(offers)

    @settings(hypothesis_settings)
    @given(scenarios(capacity, offers=offers))
    def test(scenario: Scenario) -> None:
        seen.examples += 1
        for _ in range(runs_per_example):
            seen.runs += 1
            run = run_one(factory, scenario, bound=bounds[0], target=target)
            report = _judge(target, scenario, run)
            if report is not None:
                if seen.found_at is None:
                    seen.found_at = time.monotonic()
                if run.hung:
                    bounds[0] = min(bounds[0], RECHECK_BOUND)
                if seen.best is None or scenario.size < seen.best.scenario.size:
                    seen.best = _confirm(factory, scenario, report, bounds[0], target, run_one)
                raise AssertionError(report.headline())

    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter), contextlib.suppress(Exception):
        test()
    return seen.best, seen


# -- async implementations (conformance._async) ------------------------------------------------


def _scenario_runner(offers: Offers) -> Callable[..., Run]:
    """Threads for the sync contract; tasks of one event loop for an async implementation."""
    if offers.runtime == "threads":
        return run_scenario
    from conformance._async import run_scenario_async

    return partial(run_scenario_async, runtime=offers.runtime)


# ------------------------------------------------------------------------------------------------


def _confirm(factory: Callable[..., Any], scenario: Scenario, first: ConcurrentReport,
             bound: float, target: str, run_one: Callable[..., Run] = run_scenario) -> ConcurrentReport:
    """Re-run a failing scenario to say how reliably it fails."""
    hits = 1
    for _ in range(CONFIRMATIONS - 1):
        run = run_one(factory, scenario, bound=bound, target=target)
        if _judge(target, scenario, run) is not None:
            hits += 1
    return ConcurrentReport(first.target, first.scenario, first.history, first.findings, first.crashes,
                            first.blocked, hits, CONFIRMATIONS)


def describe_scenario(scenario: Scenario) -> Sequence[str]:
    """The scenario as lines of text (for reports and the history file's header)."""
    out = []
    for i, script in enumerate(scenario.producers):
        out.append(f"p{i}: " + ", ".join(_step_text(s) for s in script))
    out.append("consumer: " + ", ".join(_step_text(s) for s in scenario.consumer))
    if scenario.closer_pause is not None:
        out.append(f"closer: tx0.close() after pause {scenario.closer_pause}")
    elif not scenario.close_original:
        out.append("tx0 stays open (the channel never disconnects)")
    if scenario.preempt:
        out.append(f"preemption: p={scenario.preempt} per line of the code under test, seed {scenario.seed}")
    return out


def _step_text(step: Step) -> str:
    name = step.kind if isinstance(step.kind, str) else step.kind.value
    if step.kind in (Kind.SEND_TIMEOUT, Kind.RECV_TIMEOUT):
        name += f"({step.timeout})"
    return name + (f"~{step.pause}" if step.pause else "")

