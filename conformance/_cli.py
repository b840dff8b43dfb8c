"""``python -m conformance``: exit 0 when it conforms, 1 when it does not, 2 on bad usage."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance._profiles import PROFILES, default_profile
from conformance._render import render_failures, render_summary
from conformance._runner import DEFAULT_CAPACITIES, Verdict, run
from conformance._target import BUNDLED, TargetError, TargetMissing, load, parse_capacity

__all__ = ["main"]

EXIT_CONFORMS, EXIT_FAILS, EXIT_USAGE = 0, 1, 2


def _capacity(text: str) -> int | None:
    try:
        return parse_capacity(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance",
        description="Judge an MPSC channel implementation against the executable model.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser(
        "check", help="run the suite against one or more factories",
        description="Run the conformance suite. Exit 0: conforms; 1: does not (a minimal "
        "replayable counterexample is printed); 2: bad usage.")
    check.add_argument("targets", nargs="*", metavar="MODULE:FACTORY",
                       help="e.g. impls.condition_based:channel (a callable capacity -> (sender, receiver))")
    check.add_argument("--bundled", action="store_true",
                       help="also check the implementations bundled in impls/")
    check.add_argument("--capacity", action="append", type=_capacity, metavar="C",
                       help="capacity to test (repeatable): None, 0 or k > 0; default: "
                       + " ".join(repr(c) for c in DEFAULT_CAPACITIES))
    check.add_argument("--profile", choices=PROFILES, default=None,
                       help="Hypothesis effort: quick (default; or $MPSC_PROFILE) or thorough")
    check.add_argument("--max-examples", type=int, default=None, metavar="N",
                       help="override the profile's examples (sequential) and scenarios (concurrent) per capacity")
    check.add_argument("--save-failures", default="mpsc-failures", metavar="DIR",
                       help="where a failing concurrent run's history is written (JSON lines; "
                       "default ./mpsc-failures)")
    check.add_argument("--hypothesis-output", action="store_true",
                       help="on failure, also print what Hypothesis reported (seed, blob)")
    history = commands.add_parser(
        "check-history", help="check a recorded history (JSON lines) against the model",
        description="Check a history recorded anywhere (format: conformance/history.py). Exit 0: every "
        "check passed (a search that ran out of budget is reported, not failed); 1: a violation; "
        "2: the file is missing or malformed.")
    history.add_argument("file", metavar="FILE", help="a JSON-lines history; - for standard input")
    history.add_argument("--search-limit", type=int, default=40, metavar="N",
                         help="run the linearizability search only on histories of at most N operations "
                         "(default 40; the search is exponential in the worst case)")
    mutation = commands.add_parser(
        "mutation-score", help="run the suite against every broken implementation in impls/broken",
        description="The suite judged by what it catches: each broken implementation must fail, for the "
        "rule or check its file names. Exit 0: all caught for the intended reason; 1: not all.")
    mutation.add_argument("--profile", choices=PROFILES, default=None, help="Hypothesis effort (default quick)")
    mutation.add_argument("--only", action="append", metavar="NAME", help="score only these (repeatable)")
    alarms = commands.add_parser(
        "false-alarms", help="run the whole suite many times against correct implementations",
        description="Every failure of a correct implementation is a false alarm (or a real bug in it). "
        "Each run draws fresh examples. Exit 0: none; 1: some.")
    alarms.add_argument("targets", nargs="*", metavar="MODULE:FACTORY", help="default: the bundled implementations")
    alarms.add_argument("--runs", type=int, default=20, metavar="N", help="full runs per target (default 20)")
    alarms.add_argument("--profile", choices=PROFILES, default=None, help="Hypothesis effort (default quick)")
    alarms.add_argument("--max-examples", type=int, default=None, metavar="N",
                        help="examples (and scenarios) per check, overriding the profile")
    alarms.add_argument("--capacity", action="append", type=_capacity, metavar="C",
                        help="capacity to test (repeatable); default: " + " ".join(repr(c) for c in DEFAULT_CAPACITIES))
    matrix = commands.add_parser(
        "matrix", help="judge every implementation, adapter and driver; write the conformance matrix",
        description="Run the suite against every target (default: bundled implementations, the async "
        "reference, every adapter of a real library, every driver) and write python-X.Y.md/.json (this "
        "Python), the counterexamples, and an index across Pythons into DIR. Named targets replace only "
        "their own rows of this Python's page. Missing libraries and "
        "toolchains are skipped by name. Exit 0 when written (failing cells are results, not errors).")
    matrix.add_argument("targets", nargs="*", metavar="TARGET", help="default: everything there is")
    matrix.add_argument("--out", default="docs/matrix", metavar="DIR", help="default docs/matrix")
    matrix.add_argument("--profile", choices=PROFILES, default=None, help="Hypothesis effort (default quick)")
    matrix.add_argument("--max-examples", type=int, default=None, metavar="N",
                        help="examples (and scenarios) per check, overriding the profile")
    return parser


def matrix_command(names: Sequence[str], out: str, profile: str, max_examples: int | None) -> int:
    from conformance._matrix import Row, default_targets, judge_all, write

    targets = list(names) or default_targets()
    print(f"profile: {profile}; {len(targets)} targets; writing {out}")

    def progress(row: Row) -> None:
        failed = [k for k, c in row.cells.items() if c.state == "FAIL"]
        extra = f": {', '.join(failed)}" if failed else (f" ({row.offered})" if row.verdict == "skipped" else "")
        print(f"  {row.target}: {row.verdict}{extra}", flush=True)

    rows = judge_all(targets, profile=profile, max_examples=max_examples, progress=progress)
    for path in write(rows, Path(out), profile=profile, max_examples=max_examples, merge=bool(names)):
        if path.suffix in (".md", ".json") and path.parent == Path(out):
            print(f"wrote {path}")
    return EXIT_CONFORMS


def mutation_command(profile: str, only: Sequence[str] | None) -> int:
    from conformance._mutation import render_score, score
    from impls.broken import broken_modules

    modules = broken_modules()
    if only:
        known = {m.__name__.rsplit(".", 1)[-1]: m for m in modules}
        unknown = [n for n in only if n not in known]
        if unknown:
            print(f"error: no broken implementation named {', '.join(unknown)}; known: {', '.join(known)}",
                  file=sys.stderr)
            return EXIT_USAGE
        modules = [known[n] for n in only]
    print(f"profile: {profile}; {len(modules)} broken implementations")

    def progress(m: object) -> None:
        print(f"  {m.name}: {m.status} (found {m.found:.1f} s, reported {m.seconds:.1f} s)", flush=True)  # type: ignore[attr-defined]

    results = score(modules, profile=profile, progress=progress)
    print()
    print(render_score(results, profile))
    return EXIT_CONFORMS if all(m.caught for m in results) else EXIT_FAILS


def false_alarms_command(names: Sequence[str], runs: int, profile: str,
                         capacities: Sequence[int | None], max_examples: int | None = None) -> int:
    import time

    from conformance._mutation import false_alarms, render_alarms

    if runs < 1:
        print("error: --runs must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    try:
        targets = [load(name) for name in names]
    except TargetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"profile: {profile}; {runs} runs of the whole suite per target; capacities "
          f"{', '.join(repr(c) for c in capacities)}")

    def progress(name: str, n: int, verdicts: Sequence[Verdict], seconds: float) -> None:
        failed = [v.check for v in verdicts if v.failed]
        print(f"  {name} run {n}/{runs}: {'FAILED ' + ', '.join(failed) if failed else 'passed'} "
              f"({seconds:.0f} s)", flush=True)

    start = time.monotonic()
    alarms = false_alarms(targets, runs=runs, profile=profile, capacities=capacities, max_examples=max_examples,
                          progress=progress)
    print()
    print(render_alarms(alarms, [t.name for t in targets], runs, time.monotonic() - start))
    if alarms:
        print()
        print(render_failures([a.verdict for a in alarms]))
    return EXIT_FAILS if alarms else EXIT_CONFORMS


def save_histories(target: str, verdicts: Sequence[Verdict], directory: str) -> list[Path]:
    """Write the history of each failing concurrent run; return the paths written."""
    from conformance._concurrent_suite import ConcurrentReport
    from conformance.history import dump

    written = []
    for v in verdicts:
        if v.failed and isinstance(v.report, ConcurrentReport):
            folder = Path(directory)
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{target.replace(':', '.')}-capacity-{v.report.scenario.capacity}.jsonl"
            with open(folder / name, "w", encoding="utf-8") as f:
                dump(v.report.history, f)
            written.append(folder / name)
    return written


def check_history_command(path: str, search_limit: int) -> int:
    from conformance._concurrent_suite import check_history
    from conformance._evidence import Verdict3
    from conformance._timeline import render_timeline
    from conformance.history import HistoryError, load, loads

    try:
        recorded = loads(sys.stdin.read()) if path == "-" else load(path)
    except HistoryError as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    findings = check_history(recorded, linearizability_limit=search_limit)
    print(f"{path}: {len(recorded.operations)} operations, capacity {recorded.capacity!r}")
    marked: set[int] = set()
    for f in findings:
        note = f": {f.message}" if f.message and not f.ok else ""
        print(f"  {f.check:<28} {f.verdict.value}{note}")
        if f.verdict is Verdict3.VIOLATION:
            marked.update(op.id for op in f.operations)
            marked.update(f.cycle)
    pending = [op for op in recorded.operations if not op.returned]
    if pending:
        print(f"  note: {len(pending)} operation(s) never returned; whether they should have is a liveness "
              f"question a history alone cannot settle (the run that recorded it reports hangs)")
    if len(recorded.operations) > search_limit:
        print(f"  {'linearizability':<28} not searched ({len(recorded.operations)} > --search-limit {search_limit})")
    if marked:
        print()
        print(render_timeline(recorded, marked))
        return EXIT_FAILS
    return EXIT_CONFORMS


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "check-history":
        return check_history_command(args.file, args.search_limit)
    try:
        profile = args.profile or default_profile()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "matrix":
        return matrix_command(args.targets, args.out, profile, args.max_examples)
    if args.command == "mutation-score":
        return mutation_command(profile, args.only)
    if args.command == "false-alarms":
        return false_alarms_command(args.targets or list(BUNDLED), args.runs, profile,
                                    tuple(args.capacity) if args.capacity else DEFAULT_CAPACITIES,
                                    args.max_examples)
    names = list(args.targets) + (list(BUNDLED) if args.bundled else [])
    if not names:
        parser.error("name at least one MODULE:FACTORY, or use --bundled")
    targets = []
    for name in names:
        try:
            targets.append(load(name))
        except TargetMissing as exc:  # an optional library or toolchain is absent: say so, go on
            print(str(exc))
        except TargetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    if args.max_examples is not None and args.max_examples < 1:
        print("error: --max-examples must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    capacities = tuple(args.capacity) if args.capacity else DEFAULT_CAPACITIES
    print(f"profile: {profile}; capacities: {', '.join(repr(c) for c in capacities)}")
    any_failed = False
    for target in targets:
        verdicts = run(target, capacities, profile=profile, max_examples=args.max_examples)
        print(render_summary(target.name, verdicts), flush=True)
        if any(v.failed for v in verdicts):
            any_failed = True
            print()
            print(render_failures(verdicts))
            for path in save_histories(target.name, verdicts, args.save_failures):
                print(f"history saved: {path}  (check it again: python -m conformance check-history {path})")
            if args.hypothesis_output:
                for v in verdicts:
                    if v.hypothesis_output:
                        print(v.hypothesis_output)
    return EXIT_FAILS if any_failed else EXIT_CONFORMS
