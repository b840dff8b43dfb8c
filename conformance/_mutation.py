"""The suite judged by what it catches: broken implementations and repeated correct runs.

:func:`score` runs the suite, as ``check`` would (sequential half, then concurrent, per
capacity; the first failure ends it), against every implementation in ``impls/broken`` at
the capacities where its bug shows, and says for each whether it was caught and *why*: the
rule a sequential report names, or the checks a concurrent report lists (``liveness`` for
threads blocked for good).  Caught for a reason its file does not name, or by a crash, counts
as not caught.  :func:`false_alarms` runs the whole suite against correct implementations
many times, with fresh randomness each time, and collects every failure.

Nothing here prints; :func:`render_score` and :func:`render_alarms` make the text.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType

from conformance._concurrent_suite import ConcurrentReport
from conformance._runner import DEFAULT_CAPACITIES, Status, Verdict, run, run_concurrent_check, run_sequential
from conformance._sequential import Report
from conformance._target import Target, load, make_target

__all__ = ["Alarm", "Mutant", "false_alarms", "reasons_of", "render_alarms", "render_score", "score", "score_one"]


@dataclass(frozen=True)
class Mutant:
    """One broken implementation's result."""

    name: str
    expected: str  # the reasons its file names, as text
    caught: bool  # caught, and for a reason its file names
    reasons: tuple[str, ...]  # why the suite failed it (empty: it passed)
    check: str  # which check failed it ("sequential, capacity 1", ...)
    found: float  # from the start until the bug was first seen (what "time to catch" means)
    seconds: float  # from the start until the failure was reported (confirmed and shrunk)
    examples: int  # examples (sequential) and scenarios (concurrent) run until then
    headline: str  # the failure in one line
    problem: str = ""  # why a failure does not count, or what went wrong

    @property
    def status(self) -> str:
        if self.caught:
            return "caught"
        return "WRONG REASON" if self.reasons else "MISSED"


def reasons_of(verdict: Verdict) -> tuple[str, ...]:
    """What a failed verdict blames: ``rule N (name)`` for a sequential report; the failed
    checks' names, ``liveness`` or ``crash`` for a concurrent one."""
    report = verdict.report
    if isinstance(report, Report):
        rule = report.rule
        return (f"rule {rule.number} ({rule.name.lower()})" if rule.number else rule.name.lower(),)
    if isinstance(report, ConcurrentReport):
        found = [f.check for f in report.findings]
        if report.blocked:
            found.append("liveness")
        if report.crashes:
            found.append("crash")
        return tuple(dict.fromkeys(found))
    return ("arguments",) if verdict.failed else ()


def _headline(verdict: Verdict) -> str:
    report = verdict.report
    if isinstance(report, Report):
        return f"{report.call}: expected {report.expected}, observed {report.observed}"[:160]
    if isinstance(report, ConcurrentReport):
        return report.headline()
    return "; ".join(verdict.problems)[:160]


def score_one(module: ModuleType, *, profile: str, concurrent_examples: int | None = None) -> Mutant:
    """Run the suite against one broken implementation (its ``channel`` and ``EXPECT``);
    ``concurrent_examples`` overrides the profile's scenarios per capacity."""
    name = module.__name__.rsplit(".", 1)[-1]
    expect = module.EXPECT
    target = make_target(f"{module.__name__}:channel", module.channel, probe=False)
    allowed = {f"rule {r.number} ({r.name.lower()})" if r.number else r.name.lower() for r in expect.rules}
    allowed |= set(expect.checks)
    start = time.monotonic()
    examples = 0
    for capacity in expect.capacities:
        for half in (run_sequential, run_concurrent_check):
            more = concurrent_examples and half is run_concurrent_check
            extra = {"max_examples": concurrent_examples} if more else {}
            verdict = half(target, capacity, profile=profile, **extra)
            examples += verdict.examples
            if not verdict.failed:
                continue
            seconds = time.monotonic() - start
            found = seconds - verdict.seconds + (verdict.found_seconds if verdict.found_seconds is not None
                                                 else verdict.seconds)
            reasons = reasons_of(verdict)
            right = bool(allowed & set(reasons)) and "crash" not in reasons
            problem = ""
            if not right:
                problem = f"failed for {', '.join(reasons)}; its file names {expect.reasons()}"
            elif expect.concurrent_only and half is run_sequential:
                right, problem = False, "declared invisible to one thread, but the sequential suite failed it"
            return Mutant(name, expect.reasons(), right, reasons, verdict.check, found, seconds, examples,
                          _headline(verdict), problem)
    elapsed = time.monotonic() - start
    return Mutant(name, expect.reasons(), False, (), "", elapsed, elapsed, examples, "passed every check",
                  f"passed at capacities {', '.join(repr(c) for c in expect.capacities)}")


def score(modules: Iterable[ModuleType], *, profile: str,
          progress: Callable[[Mutant], None] | None = None) -> list[Mutant]:
    results = []
    for module in modules:
        result = score_one(module, profile=profile)
        results.append(result)
        if progress is not None:
            progress(result)
    return results


def render_score(results: Sequence[Mutant], profile: str) -> str:
    rows = [("broken implementation", "verdict", "caught by", "in check", "found (s)", "reported (s)", "examples")]
    for m in results:
        rows.append((m.name, m.status, ", ".join(m.reasons) or "-", m.check or "-", f"{m.found:.1f}",
                     f"{m.seconds:.1f}", str(m.examples)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    caught = [m for m in results if m.caught]
    lines.append("")
    for m in results:
        if not m.caught:
            lines.append(f"{m.name}: {m.problem}")
    times = [m.found for m in caught]
    lines.append(f"mutation score: {len(caught)}/{len(results)} caught for the intended reason "
                 f"({100 * len(caught) / max(1, len(results)):.0f}%), profile {profile}")
    if times:
        reported = [m.seconds for m in caught]
        lines.append(f"time to catch (first seen): median {statistics.median(times):.1f} s, slowest "
                     f"{max(times):.1f} s ({max(caught, key=lambda m: m.found).name})")
        lines.append(f"time to a minimal report (confirmed, shrunk): median {statistics.median(reported):.1f} s, "
                     f"slowest {max(reported):.1f} s")
    return "\n".join(lines)


@dataclass(frozen=True)
class Alarm:
    """A failure of a correct implementation: a bug in it, in the model, or in the suite."""

    target: str
    run: int
    verdict: Verdict


def false_alarms(targets: Sequence[str | Target], *, runs: int, profile: str,
                 capacities: Sequence[int | None] = DEFAULT_CAPACITIES, max_examples: int | None = None,
                 progress: Callable[[str, int, list[Verdict], float], None] | None = None) -> list[Alarm]:
    """Run the whole suite ``runs`` times against each target; every failure is an alarm.
    Each run draws fresh examples (the profiles' derandomisation is turned off here), since
    twenty identical runs would prove nothing more than one."""
    alarms = []
    for spec in targets:
        target = load(spec) if isinstance(spec, str) else spec
        for n in range(1, runs + 1):
            start = time.monotonic()
            verdicts = run(target, capacities, profile=profile, max_examples=max_examples, randomize=True)
            alarms += [Alarm(target.name, n, v) for v in verdicts if v.status is Status.FAILED]
            if progress is not None:
                progress(target.name, n, verdicts, time.monotonic() - start)
    return alarms


def render_alarms(alarms: Sequence[Alarm], targets: Sequence[str], runs: int, seconds: float) -> str:
    lines = [f"{runs} full runs of the suite against each of {len(targets)} correct implementation(s) "
             f"({runs * len(targets)} runs, {seconds:.0f} s): {len(alarms)} failure(s)"]
    for a in alarms:
        lines.append(f"  FALSE ALARM? {a.target}, run {a.run}, {a.verdict.check}: {_headline(a.verdict)}")
    return "\n".join(lines)
