"""The conformance matrix: every implementation against every rule and check, on one Python.

One row per target (the bundled implementations, the async reference, every adapter of a real
library, every driver of a channel in another language); one column per rule of the semantics
and per concurrent check.  A cell is ``pass``, ``FAIL`` (linked to its minimal counterexample,
written beside the matrix), ``not offered`` (the implementation declares it lacks what the
column needs), or ``not reached`` (every capacity failed earlier, on another rule, before this
one could be judged).

A failing run stops at its first failure, which would leave most of a buggy library's row
unjudged.  So when a sequential failure is on a rule tied to an optional feature (receiver close,
timeouts, closing a handle in use, ...), the row is run again with that feature withheld: the
rest of the row is then judged without it, and says so.

Cells are data (:class:`Row`); :func:`render_markdown` and :func:`to_json` only format.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import platform
import re
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance._concurrent_suite import ConcurrentReport
from conformance._runner import DEFAULT_CAPACITIES, Status, Verdict, run
from conformance._sequential import Report
from conformance._target import Target, TargetError, TargetMissing, load
from spec import Feature, Offers, Rule

__all__ = ["CHECK_COLUMNS", "RULE_COLUMNS", "Row", "default_targets", "judge", "render_index", "render_markdown",
           "to_json", "write"]

RULE_COLUMNS: tuple[Rule, ...] = tuple(sorted(Rule, key=lambda r: (r.number == 0, r.number)))
CHECK_COLUMNS: tuple[str, ...] = ("integrity", "causality", "producer_order", "realtime_fifo", "empty", "full",
                                  "disconnected", "synchronisation", "linearizability", "liveness")

PASS, FAIL, NOT_OFFERED, NOT_REACHED = "pass", "FAIL", "not offered", "not reached"

# A failure on one of these rules is re-judged with the feature withheld, to see the rest.
_WITHHOLD: dict[Rule, frozenset[Feature]] = {
    Rule.RECEIVER_CLOSE: frozenset({Feature.CLOSE_RECEIVER}),
    Rule.IN_FLIGHT: frozenset({Feature.CLOSE_WHILE_BLOCKED}),
    Rule.TIMEOUT: frozenset({Feature.SEND_TIMEOUT, Feature.RECV_TIMEOUT}),
    Rule.CLONE: frozenset({Feature.CLONE}),
    Rule.SENDER_CLOSE: frozenset({Feature.DISCONNECT}),
    Rule.PRECEDENCE: frozenset({Feature.DISCONNECT, Feature.CLOSE_RECEIVER}),
}
_ROUNDS = 3  # at most this many runs per row


def _column_names() -> list[str]:
    columns: list[Rule | str] = [*RULE_COLUMNS, *CHECK_COLUMNS]
    return [column_name(c) for c in columns]


def column_name(column: Rule | str) -> str:
    if isinstance(column, Rule):
        return f"rule {column.number}" if column.number else column.name.lower()
    return column


def _needs(offers: Offers) -> dict[Rule | str, str]:
    """Columns the declaration rules out, with why."""
    caps = offers.capacities
    out: dict[Rule | str, str] = {}
    if not caps.unbounded:
        out[Rule.UNBOUNDED] = "no unbounded capacity"
    if not caps.bounded:
        out[Rule.BOUNDED] = "no bounded capacity"
    if not caps.rendezvous:
        out[Rule.RENDEZVOUS] = "no rendezvous"
    for rule, features in _WITHHOLD.items():
        if rule is not Rule.PRECEDENCE and not any(offers.has(f) for f in features):
            out[rule] = "lacks " + ", ".join(f.value for f in sorted(features, key=lambda f: f.name))
    if not offers.has(Feature.DISCONNECT) and not offers.has(Feature.CLOSE_RECEIVER):
        out[Rule.PRECEDENCE] = "neither disconnects nor closes its receiver"
    if not (caps.bounded or caps.rendezvous):
        out["full"] = "never full"
        out[Rule.SYNCHRONISATION] = "no bounded or rendezvous capacity"
        out["synchronisation"] = "no bounded or rendezvous capacity"
    if not offers.has(Feature.DISCONNECT):
        out["disconnected"] = "never disconnects"
    return out


@dataclass
class Cell:
    state: str
    note: str = ""  # why (not offered), or under which withheld features it passed
    link: str = ""  # the counterexample file, relative to the matrix


@dataclass
class Row:
    """One target's judgement on one Python."""

    target: str
    library: str
    version: str
    runtime: str
    verdict: str  # "conforms", "fails", "skipped"
    cells: dict[str, Cell] = field(default_factory=dict)
    offered: str = ""  # capacities and missing features, in words
    deviations: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    runs: list[str] = field(default_factory=list)  # what each round withheld
    counterexamples: dict[str, str] = field(default_factory=dict)  # file name -> text


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def _failures(verdicts: Sequence[Verdict]) -> list[tuple[Verdict, list[Rule | str]]]:
    """Each failed verdict with the columns it fails."""
    out = []
    for v in verdicts:
        if not v.failed:
            continue
        columns: list[Rule | str] = []
        if isinstance(v.report, Report):
            columns.append(v.report.rule)
        elif isinstance(v.report, ConcurrentReport):
            for f in v.report.findings:
                columns.append(f.check)
                if f.rule is not None:
                    columns.append(f.rule)
            if v.report.blocked:
                columns.append("liveness")
            if v.report.crashes:
                columns.append("crash")
        else:
            columns.append(Rule.USAGE)  # capacity arguments
        out.append((v, columns))
    return out


def _counterexample(target: str, verdict: Verdict) -> str:
    lines = [f"# {target}: {verdict.check}", "", "```"]
    if verdict.report is not None:
        lines.append(verdict.report.render())
    lines += list(verdict.problems)
    lines += ["```", ""]
    return "\n".join(lines)


def judge(target: Target, *, profile: str, capacities: Sequence[int | None] = DEFAULT_CAPACITIES,
          max_examples: int | None = None) -> Row:
    """Run the suite (with the withholding rounds) and fill one row."""
    declared = target.declared
    row = Row(target.name, declared.library or "this project", declared.version or _own_version(), declared.runtime,
              "conforms", offered=_describe_offers(declared),
              deviations=[{"rule": column_name(d.rule), "text": d.text, "documented": d.documented}
                          for d in declared.deviations])
    ruled_out = _needs(declared)
    failed: dict[str, Cell] = {}
    passed: dict[str, str] = {}  # column -> note (which features were withheld)
    withheld: frozenset[Feature] = frozenset()
    for _round in range(_ROUNDS):
        offers = dataclasses.replace(declared, missing=declared.missing | withheld)
        current = dataclasses.replace(target, declared=offers)
        note = ("with " + ", ".join(sorted(f.name.lower() for f in withheld)) + " withheld") if withheld else ""
        row.runs.append(note or "as declared")
        verdicts = run(current, capacities, profile=profile, max_examples=max_examples)
        row.seconds += sum(v.seconds for v in verdicts)
        failures = _failures(verdicts)
        for verdict, columns in failures:
            row.verdict = "fails"
            name = f"{_slug(target.name)}-{_slug(verdict.check)}{'-' + _slug(note) if note else ''}.md"
            row.counterexamples[name] = _counterexample(target.name, verdict)
            for column in columns:
                key = column_name(column)
                if key not in failed:
                    failed[key] = Cell(FAIL, f"{verdict.check}{', ' + note if note else ''}", name)
        _credit(verdicts, passed, note, ruled_out)
        more = frozenset().union(*(_WITHHOLD.get(c, frozenset()) for _, cs in failures for c in cs
                                   if isinstance(c, Rule))) - withheld - declared.missing
        if not more:
            break
        withheld |= more
    every: list[Rule | str] = [*RULE_COLUMNS, *CHECK_COLUMNS]
    for column in every:
        key = column_name(column)
        if key in failed:
            row.cells[key] = failed[key]
        elif column in ruled_out:
            row.cells[key] = Cell(NOT_OFFERED, ruled_out[column])
        elif key in passed:
            row.cells[key] = Cell(PASS, passed[key])
        else:
            row.cells[key] = Cell(NOT_REACHED, "every capacity failed earlier")
    if "crash" in failed:
        row.cells["crash"] = failed["crash"]
    return row


def _credit(verdicts: Sequence[Verdict], passed: dict[str, str], note: str,
            ruled_out: dict[Rule | str, str]) -> None:
    """Columns judged and passed in this round: a rule by a sequential half that passed at a
    capacity where the rule applies; a check by a concurrent half that passed."""
    for v in verdicts:
        if v.status is not Status.PASSED or "capacity " not in v.check:
            continue
        half, capacity = v.check.split(",")[0], v.check.rsplit("capacity ", 1)[1]
        if half == "sequential":
            for rule in RULE_COLUMNS:
                if _applies(rule, capacity):
                    passed.setdefault(column_name(rule), note)
        elif half == "concurrent":
            for check in CHECK_COLUMNS:
                if check != "synchronisation" or capacity != "None":
                    passed.setdefault(check, note)


def _applies(rule: Rule, capacity: str) -> bool:
    """Whether the sequential half at ``capacity`` (as printed) judges ``rule``."""
    if rule is Rule.UNBOUNDED:
        return capacity == "None"
    if rule is Rule.RENDEZVOUS:
        return capacity == "0"
    if rule is Rule.BOUNDED:
        return capacity not in ("None", "0")
    if rule is Rule.SYNCHRONISATION:
        return capacity != "None"
    return True


def _own_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mpsc-conformance")
    except PackageNotFoundError:
        return ""


def _describe_offers(offers: Offers) -> str:
    parts = [offers.capacities.describe()]
    if offers.missing:
        parts.append("lacks " + offers.describe_missing())
    return "; ".join(parts)


def skipped_row(name: str, why: str) -> Row:
    row = Row(name, name.split(":")[0], "", "", "skipped")
    row.offered = why
    return row


def default_targets() -> list[str]:
    """Everything there is to judge: bundled, async reference, adapters, drivers."""
    from conformance._driver import BUNDLED_DRIVERS
    from conformance._target import BUNDLED
    from impls.adapters import ADAPTERS

    return [*BUNDLED, "impls.asyncio_based:channel", *ADAPTERS, *(f"driver:{d}" for d in BUNDLED_DRIVERS)]


def judge_all(names: Iterable[str], *, profile: str, max_examples: int | None = None,
              progress: Callable[[Row], None] | None = None) -> list[Row]:
    rows = []
    for name in names:
        try:
            target = load(name)
        except TargetMissing as exc:
            row = skipped_row(name, str(exc))
        except TargetError as exc:
            row = skipped_row(name, f"cannot be loaded: {exc}")
        else:
            try:
                row = judge(target, profile=profile, max_examples=max_examples)
            except Exception as exc:  # the suite itself broke on this target: say so in its row, go on
                traceback.print_exc()
                row = skipped_row(name, f"the suite itself failed ({type(exc).__name__}: {exc}); see the log")
                row.verdict = "error"
        rows.append(row)
        if progress is not None:
            progress(row)
    return rows


def environment() -> dict[str, str]:
    return {
        "date": datetime.date.today().isoformat(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": f"{platform.system()} {platform.machine()}",
    }


def to_json(rows: Sequence[Row], env: dict[str, str], profile: str, max_examples: int | None) -> str:
    payload: dict[str, Any] = {
        **env, "profile": profile, "max_examples": max_examples,
        "columns": _column_names(),
        "rows": [{k: v for k, v in dataclasses.asdict(r).items() if k != "counterexamples"} for r in rows],
    }
    return json.dumps(payload, indent=1, sort_keys=False) + "\n"


_SHORT = {PASS: "pass", FAIL: "**FAIL**", NOT_OFFERED: "n/o", NOT_REACHED: "n/r"}


def render_markdown(rows: Sequence[Row], env: dict[str, str], profile: str, max_examples: int | None,
                    counterexample_dir: str) -> str:
    columns = _column_names()
    budget = f"profile {profile}" + (f", at most {max_examples} examples per check" if max_examples else "")
    lines = [
        f"# Conformance matrix: Python {env['python']}",
        "",
        f"Generated {env['date']} by `python -m conformance matrix` on {env['implementation']} {env['python']}, "
        f"{env['platform']}; {budget}.",
        "",
        "Cells: **pass**; **FAIL** (linked to its minimal counterexample); **n/o** not offered (the "
        "implementation declares it lacks what the column needs); **n/r** not reached (every capacity "
        "failed earlier). A row that failed on a rule tied to an optional feature was run again with "
        "that feature withheld; cells judged that way say so in the details below the table.",
        "",
        "| implementation | library | version | " + " | ".join(columns) + " |",
        "|" + " --- |" * (3 + len(columns)),
    ]
    for r in rows:
        if r.verdict in ("skipped", "error"):
            lines.append(f"| `{r.target}` | {r.library} | {r.verdict}: {r.offered} |" + " |" * len(columns))
            continue
        cells = []
        for c in columns:
            cell = r.cells[c]
            text = _SHORT[cell.state]
            cells.append(f"[{text}]({counterexample_dir}/{cell.link})" if cell.link else text)
        lines.append(f"| `{r.target}` | {r.library} | {r.version} | " + " | ".join(cells) + " |")
    lines += ["", "## Details", ""]
    for r in rows:
        if r.verdict in ("skipped", "error"):
            continue
        lines.append(f"### `{r.target}`: {r.verdict}")
        lines.append("")
        lines.append(f"- offers: {r.offered}; runtime: {r.runtime}; runs: {'; '.join(r.runs)} ({r.seconds:.0f} s)")
        for d in r.deviations:
            doc = f" (documented: {d['documented']})" if d["documented"] else " (undocumented)"
            lines.append(f"- declared deviation, {d['rule']}: {d['text']}{doc}")
        for c in columns:
            cell = r.cells[c]
            if cell.state == FAIL:
                lines.append(f"- {c}: FAIL in {cell.note} ([counterexample]({counterexample_dir}/{cell.link}))")
            elif cell.state == PASS and cell.note:
                lines.append(f"- {c}: pass {cell.note}")
        if "crash" in r.cells:
            link = f"{counterexample_dir}/{r.cells['crash'].link}"
            lines.append(f"- an exception escaped a call ([counterexample]({link}))")
        lines.append("")
    return "\n".join(lines)


def render_index(folder: Path) -> str:
    """The overview across Pythons, from every ``python-*.json`` in ``folder``."""
    runs = []
    for path in sorted(folder.glob("python-*.json")):
        runs.append((path.stem, json.loads(path.read_text(encoding="utf-8"))))
    targets: list[str] = []
    for _, data in runs:
        for r in data["rows"]:
            if r["target"] not in targets:
                targets.append(r["target"])
    header = ["implementation", *(f"[Python {d['python']}]({stem}.md)" for stem, d in runs)]
    lines = [
        "# Conformance matrix",
        "",
        "Each implementation and library, judged by the full suite on each installed Python. A cell gives the "
        "verdict and the rules or checks that failed; the linked page per Python has every rule and check, "
        "with each failure's minimal counterexample, the library versions and the date. Findings in real "
        "libraries, with reproductions in their own API, are in [findings/](../findings/README.md).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + " --- |" * len(header),
    ]
    for t in targets:
        cells = []
        for _, data in runs:
            row = next((r for r in data["rows"] if r["target"] == t), None)
            if row is None:
                cells.append("-")
            elif row["verdict"] in ("skipped", "error"):
                cells.append(row["verdict"])
            elif row["verdict"] == "conforms":
                cells.append(f"conforms ({row['library']} {row['version']})".replace(" ()", ""))
            else:
                bad = [c for c, cell in row["cells"].items() if cell["state"] == FAIL]
                cells.append(f"**fails**: {', '.join(bad)}")
        lines.append(f"| `{t}` | " + " | ".join(cells) + " |")
    dates = sorted({d["date"] for _, d in runs})
    lines += ["", f"Generated {', '.join(dates)} by `python -m conformance matrix` (one run per Python)."]
    return "\n".join(lines) + "\n"


def _row_from_json(d: dict[str, Any]) -> Row:
    cells = {k: Cell(**v) for k, v in d["cells"].items()}
    return Row(**{**d, "cells": cells})


def write(rows: Sequence[Row], folder: Path, *, profile: str, max_examples: int | None,
          merge: bool = False) -> list[Path]:
    """Write ``python-X.Y.md``/``.json``, the counterexamples, and the index; return the paths.
    ``merge``: replace only these targets' rows in this Python's page, keeping the others."""
    env = environment()
    version = ".".join(platform.python_version_tuple()[:2])
    folder.mkdir(parents=True, exist_ok=True)
    examples = folder / "counterexamples"
    examples.mkdir(exist_ok=True)
    written = []
    for r in rows:  # a re-judged target's old counterexamples go: its cells are new
        for stale in examples.glob(f"py{version}-{_slug(r.target)}-*.md"):
            stale.unlink()
    for r in rows:
        for name, text in r.counterexamples.items():
            path = examples / f"py{version}-{name}"
            path.write_text(text, encoding="utf-8")
            written.append(path)
    for r in rows:  # links carry the Python version too: the pages of several Pythons share the folder
        for cell in r.cells.values():
            if cell.link and not cell.link.startswith("py"):
                cell.link = f"py{version}-{cell.link}"
    js = folder / f"python-{version}.json"
    if merge and js.exists():  # keep the other targets' rows of an earlier run on this Python
        fresh = {r.target for r in rows}
        earlier = json.loads(js.read_text(encoding="utf-8"))["rows"]
        kept = [_row_from_json(d) for d in earlier if d["target"] not in fresh]
        order = [d["target"] for d in earlier]
        rows = sorted([*kept, *rows], key=lambda r: order.index(r.target) if r.target in order else len(order))
    md = folder / f"python-{version}.md"
    md.write_text(render_markdown(rows, env, profile, max_examples, "counterexamples") + "\n", encoding="utf-8")
    js.write_text(to_json(rows, env, profile, max_examples), encoding="utf-8")
    index = folder / "README.md"
    index.write_text(render_index(folder), encoding="utf-8")
    return [*written, md, js, index]

