"""``python -m conformance``: exit 0 when it conforms, 1 when it does not, 2 on bad usage."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance._profiles import PROFILES, default_profile
from conformance._render import render_failures, render_summary
from conformance._runner import DEFAULT_CAPACITIES, Verdict, run
from conformance._target import BUNDLED, TargetError, load, parse_capacity

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
    return parser


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
    names = list(args.targets) + (list(BUNDLED) if args.bundled else [])
    if not names:
        parser.error("name at least one MODULE:FACTORY, or use --bundled")
    try:
        profile = args.profile or default_profile()
        targets = [load(name) for name in names]
    except (TargetError, ValueError) as exc:
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
