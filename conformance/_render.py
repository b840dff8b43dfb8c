"""Verdicts to text.  Checking never prints; this module is the only one that formats."""

from __future__ import annotations

from collections.abc import Sequence

from conformance._runner import Status, Verdict

__all__ = ["render_summary", "render_failures"]


def render_summary(target: str, verdicts: Sequence[Verdict]) -> str:
    lines = [target]
    for v in verdicts:
        if v.status in (Status.NOT_OFFERED, Status.SKIPPED):
            why = f" ({v.problems[0]})" if v.problems else ""
            lines.append(f"  {v.check:<28} {v.status.value}{why}")
            continue
        unit = "cases" if v.check == "capacity arguments" else (
            "scenarios" if v.check.startswith("concurrent") else "examples")
        stats = f"({v.examples} {unit}, {v.seconds:.1f} s)"
        lines.append(f"  {v.check:<28} {v.status.value:<7} {stats}")
    failed = [v for v in verdicts if v.failed]
    lines.append(f"  verdict: {'DOES NOT CONFORM' if failed else 'conforms'}")
    return "\n".join(lines)


def render_failures(verdicts: Sequence[Verdict]) -> str:
    parts = []
    for v in verdicts:
        if not v.failed:
            continue
        parts.append(f"--- {v.check} ---")
        if v.report is not None:
            parts.append(v.report.render())
        parts.extend(f"  {p}" for p in v.problems)
        parts.append("")
    return "\n".join(parts)
