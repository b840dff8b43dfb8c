"""Throughput of the bundled channels against ``queue.Queue`` and ``queue.SimpleQueue``.

Run from the repository root::

    python -m benchmarks.throughput            # full run, about 1-2 minutes on 2 cores
    python -m benchmarks.throughput --quick    # about 15 s
    python -m benchmarks.throughput --help     # N, repeats, capacities, producers, ...

What is measured
----------------
1. **Multi-producer throughput** (messages/s).  P producer threads (1, 2, 4) and one
   consumer thread move N messages in total through one channel of capacity 64 or
   unbounded (``None``).  Each producer sends its share through its own ``clone()`` of the
   sender and closes it; the consumer calls ``recv()`` exactly N times.  The baselines use
   the very same harness: producers ``put`` and the consumer ``get``s N times (a count,
   never a sentinel, for every variant).  ``queue.Queue`` gets the same maxsize (0, its
   "unbounded", for capacity ``None``); ``queue.SimpleQueue`` has no maxsize at all, so it
   is only measured and compared at capacity ``None``.  The clock starts when every thread
   has passed a barrier and stops when the consumer has received the N-th message.
2. **Rendezvous hand-off rate** (messages/s).  One producer, one consumer:
   ``impls.rendezvous`` and ``impls.condition_based`` at capacity 0, against
   ``queue.Queue(maxsize=1)`` (the closest stdlib thing to a hand-off).
3. **Single-thread pair cost** (ns per ``send`` + ``recv`` pair, on one thread, so the
   buffer never holds more than one message) at capacity ``None`` and 64.  The time of the
   bare ``for`` loop is included for every variant alike.  Capacity 0 cannot be measured
   this way (a send waits for a receiver), so ``impls.rendezvous`` is absent here.

Every number is the **median** of ``--repeats`` runs.  Within each repeat the variants run
back to back (baselines first, then the implementations), so a burst of machine noise hits
all of them alike.  Every multi-threaded measurement (sections 1 and 2) is made twice per
repeat: *unpinned* in this process, and *pinned* to CPU 0 in a child process started under
``taskset -c 0`` (one child per repeat; this process stays unpinned).  Pinned, only one
thread runs at a time, so the numbers show the cost of the hand-offs themselves without
true parallelism; unpinned, they include cross-core wake-ups.

How to read the ratios
----------------------
A ratio is ``median throughput of our channel / median throughput of the baseline``,
measured in the same run, with the same harness, the same capacity and pinning.  For the
single-thread table it is the same thing expressed in speed: ``baseline ns / our ns``.  So
everywhere **>1.00x means our channel is faster than the baseline, <1.00x slower**
(0.80x = 20 % less throughput).  The min-max spread over the repeats is printed next to
each median: when two spreads overlap, a small ratio difference is noise.

At the end the performance goals are checked against the medians and printed as MET or
NOT MET.  A benchmark is not a test: nothing here asserts or exits non-zero over a goal.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import platform
import queue
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

REPO_ROOT = Path(__file__).resolve().parent.parent

SendFn = Callable[[object], object]
CloseFn = Callable[[], None]
RecvFn = Callable[[], object]
Capacity = int | None  # None = unbounded, 0 = rendezvous, k > 0 = bounded
Mode = Literal["unpinned", "pinned"]

# ---------------------------------------------------------------------------------------
# Variants: every contender reduced to the same three operations
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoints:
    """One opened channel/queue: a ``(send, close)`` pair per producer and one ``recv``."""

    producers: list[tuple[SendFn, CloseFn]]
    recv: RecvFn


def _no_close() -> None:
    """A queue has nothing to close; called anyway so every harness does the same work."""


@dataclass(frozen=True)
class Variant:
    """A contender.  ``kind`` says how to open it; ``module`` names a channel module."""

    name: str
    kind: Literal["queue", "simplequeue", "channel"]
    module: str = ""

    @property
    def is_baseline(self) -> bool:
        return self.kind != "channel"

    def supports(self, capacity: Capacity) -> bool:
        if self.kind == "simplequeue":
            return capacity is None  # no maxsize at all
        if self.kind == "queue":
            return capacity != 0  # Queue(maxsize=0) means unbounded, not rendezvous
        return capacity in self._factory().capacities  # type: ignore[attr-defined]

    def _factory(self) -> Callable[[Capacity], tuple[Any, Any]]:
        return importlib.import_module(self.module).channel  # type: ignore[no-any-return]

    def open(self, capacity: Capacity, producers: int) -> Endpoints:
        if self.kind == "queue":
            q: queue.Queue[object] = queue.Queue(maxsize=0 if capacity is None else capacity)
            return Endpoints([(q.put, _no_close) for _ in range(producers)], q.get)
        if self.kind == "simplequeue":
            sq: queue.SimpleQueue[object] = queue.SimpleQueue()
            return Endpoints([(sq.put, _no_close) for _ in range(producers)], sq.get)
        tx, rx = self._factory()(capacity)
        clones = [tx.clone() for _ in range(producers)]
        tx.close()  # only the clones remain: the last producer's close disconnects
        return Endpoints([(c.send, c.close) for c in clones], rx.recv)


QUEUE = Variant("queue.Queue", "queue")
SIMPLE_QUEUE = Variant("queue.SimpleQueue", "simplequeue")
CONDITION = Variant("condition_based", "channel", "impls.condition_based")
QUEUE_BASED = Variant("queue_based", "channel", "impls.queue_based")
RENDEZVOUS = Variant("rendezvous", "channel", "impls.rendezvous")
BASELINES = (QUEUE, SIMPLE_QUEUE)
IMPLEMENTATIONS = (CONDITION, QUEUE_BASED, RENDEZVOUS)
RENDEZVOUS_BASELINE_MAXSIZE = 1


# ---------------------------------------------------------------------------------------
# The two harnesses
# ---------------------------------------------------------------------------------------


def _split(total: int, parts: int) -> list[int]:
    """``total`` messages shared as evenly as possible among ``parts`` producers."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def measure_throughput(variant: Variant, capacity: Capacity, producers: int, n: int) -> float:
    """Messages/s for ``producers`` producer threads and one consumer moving ``n`` messages.

    The calling thread is the consumer: it ``recv``s exactly ``n`` times.  Each producer
    sends its share and then closes its handle (a no-op for the stdlib queues).
    """
    ends = variant.open(capacity, producers)
    start = threading.Barrier(producers + 1)

    def produce(send: SendFn, close: CloseFn, count: int) -> None:
        start.wait()
        for i in range(count):
            send(i)
        close()

    threads = [
        threading.Thread(target=produce, args=(send, close, count), daemon=True)
        for (send, close), count in zip(ends.producers, _split(n, producers), strict=False)
    ]
    recv = ends.recv
    gc.collect()
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for _ in range(n):
        recv()
    elapsed = time.perf_counter() - t0
    for t in threads:
        t.join()
    return n / elapsed


def measure_pair_ns(variant: Variant, capacity: Capacity, pairs: int) -> float:
    """Nanoseconds per ``send(v)`` immediately followed by ``recv()`` on one thread."""
    ends = variant.open(capacity, 1)
    (send, close), recv = ends.producers[0], ends.recv
    gc.collect()
    t0 = time.perf_counter_ns()
    for i in range(pairs):
        send(i)
        recv()
    elapsed = time.perf_counter_ns() - t0
    close()
    return elapsed / pairs


# ---------------------------------------------------------------------------------------
# What one round (one repeat) measures
# ---------------------------------------------------------------------------------------

Key = tuple[str, int, str, str]  # (section, producers, capacity label, variant name)


def cap_label(capacity: Capacity) -> str:
    return "None" if capacity is None else str(capacity)


@dataclass(frozen=True)
class Job:
    """One measurement of a round, in the order it runs."""

    section: Literal["mpsc", "rendezvous"]
    producers: int
    capacity: Capacity
    variant: Variant
    display_name: str

    @property
    def key(self) -> Key:
        label = "0" if self.section == "rendezvous" else cap_label(self.capacity)
        return (self.section, self.producers, label, self.display_name)


def threaded_jobs(producer_counts: Sequence[int], capacities: Sequence[Capacity]) -> list[Job]:
    """Sections 1 and 2, baselines first within each group so noise is shared."""
    jobs: list[Job] = []
    for producers in producer_counts:
        for capacity in capacities:
            for v in (*BASELINES, *IMPLEMENTATIONS):
                if v.supports(capacity):
                    jobs.append(Job("mpsc", producers, capacity, v, v.name))
    queue1 = f"queue.Queue(maxsize={RENDEZVOUS_BASELINE_MAXSIZE})"
    jobs.append(Job("rendezvous", 1, RENDEZVOUS_BASELINE_MAXSIZE, QUEUE, queue1))
    for v in IMPLEMENTATIONS:
        if v.supports(0):
            jobs.append(Job("rendezvous", 1, 0, v, v.name))
    return jobs


def run_threaded_round(jobs: Sequence[Job], n: int, warmup: bool) -> dict[Key, float]:
    if warmup:  # threads, imports and caches warmed before anything is timed
        for job in jobs:
            measure_throughput(job.variant, job.capacity, job.producers, min(n, 1000))
    return {job.key: measure_throughput(job.variant, job.capacity, job.producers, n) for job in jobs}


def pair_variants(capacity: Capacity) -> list[Variant]:
    return [v for v in (*BASELINES, *IMPLEMENTATIONS) if v.supports(capacity)]


# ---------------------------------------------------------------------------------------
# Pinned rounds: a child process under taskset
# ---------------------------------------------------------------------------------------


def pinning_unavailable() -> str | None:
    """``None`` if ``taskset -c 0`` works here, else why not."""
    if not hasattr(os, "sched_getaffinity"):
        return "this platform has no CPU affinity"
    if 0 not in os.sched_getaffinity(0):
        return "CPU 0 is not available to this process"
    if shutil.which("taskset") is None:
        return "`taskset` is not installed"
    probe = subprocess.run(["taskset", "-c", "0", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"`taskset -c 0` failed: {probe.stderr.strip()}"
    return None


def run_pinned_round(args: argparse.Namespace) -> tuple[dict[Key, float], list[int]]:
    """One threaded round in ``taskset -c 0 python -m benchmarks.throughput --worker``."""
    cmd = [
        "taskset", "-c", "0", sys.executable, "-m", "benchmarks.throughput", "--worker",
        "--n", str(args.n),
        "--producers", ",".join(map(str, args.producers)),
        "--capacities", ",".join(map(cap_label, args.capacities)),
    ]  # fmt: skip
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    child = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, env=env)
    if child.returncode != 0:
        raise RuntimeError(f"pinned child failed ({child.returncode}):\n{child.stderr}")
    payload = json.loads(child.stdout)
    results = {tuple(r["key"]): float(r["value"]) for r in payload["results"]}
    return results, list(payload["affinity"])  # type: ignore[return-value]


def worker_main(args: argparse.Namespace) -> int:
    """The child's side: one warmed-up threaded round, as JSON on stdout."""
    jobs = threaded_jobs(args.producers, args.capacities)
    results = run_threaded_round(jobs, args.n, warmup=True)
    json.dump(
        {
            "affinity": sorted(os.sched_getaffinity(0)),
            "results": [{"key": list(k), "value": v} for k, v in results.items()],
        },
        sys.stdout,
    )
    return 0


# ---------------------------------------------------------------------------------------
# Collecting and reporting
# ---------------------------------------------------------------------------------------


@dataclass
class Samples:
    """Every repeat's value for every (mode, key)."""

    data: dict[tuple[str, Key], list[float]] = field(default_factory=dict)

    def add(self, mode: str, results: dict[Key, float]) -> None:
        for key, value in results.items():
            self.data.setdefault((mode, key), []).append(value)

    def median(self, mode: str, key: Key) -> float | None:
        values = self.data.get((mode, key))
        return statistics.median(values) if values else None

    def spread(self, mode: str, key: Key) -> tuple[float, float]:
        values = self.data[(mode, key)]
        return min(values), max(values)


def _ratio(ours: float | None, base: float | None) -> float | None:
    return None if ours is None or base is None else ours / base


def _fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}x"


def _fmt_rate(v: float) -> str:
    return f"{v:,.0f}"


def _table(out: TextIO, header: Sequence[str], rows: Sequence[Sequence[str]], text_cols: int) -> None:
    """Print an aligned table: the first ``text_cols`` columns left-, the rest right-aligned."""
    widths = [max(len(c) for c in col) for col in zip(header, *rows, strict=False)]
    right = [i >= text_cols for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=False))

    print(line(header), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in rows:
        print(line(row).rstrip(), file=out)


@dataclass
class Goal:
    text: str
    threshold: float
    cells: list[tuple[str, float | None]] = field(default_factory=list)  # (where, ratio)

    def report(self, out: TextIO) -> None:
        measured = [(w, r) for w, r in self.cells if r is not None]
        if not measured:
            print(f"  [NOT MEASURED] {self.text}", file=out)
            return
        failing = [(w, r) for w, r in measured if r < self.threshold]
        worst_where, worst = min(measured, key=lambda c: c[1])
        verdict = "MET" if not failing else "NOT MET"
        print(f"  [{verdict}] {self.text}", file=out)
        print(f"      worst: {worst:.3f}x ({worst_where}); {len(measured) - len(failing)}"
              f"/{len(measured)} cells at or above {self.threshold:.2f}x", file=out)
        for where, r in failing:
            gap = (1 - r / self.threshold) * 100
            print(f"      below: {r:.3f}x at {where} ({gap:.0f}% short of the goal)", file=out)


def report(
    out: TextIO,
    args: argparse.Namespace,
    samples: Samples,
    pairs: Samples,
    modes: Sequence[Mode],
) -> list[Goal]:
    cond_goal = Goal("condition_based >= 1.00x queue.Queue at every producer count", 1.0)
    qb_goal = Goal("queue_based >= 0.80x queue.Queue", 0.8)
    rdv_goal = Goal(
        f"rendezvous >= 0.80x queue.Queue(maxsize={RENDEZVOUS_BASELINE_MAXSIZE})", 0.8
    )

    # -- 1. multi-producer throughput -------------------------------------------------
    print("\n1. Multi-producer throughput: P producers -> 1 consumer, "
          f"N={args.n:,} messages in total (messages/s, median of {args.repeats})", file=out)
    print("   vs Queue = ours / queue.Queue(same maxsize; None -> maxsize=0);  "
          "vs SimpleQ = ours / queue.SimpleQueue,\n   shown at capacity None only "
          "(SimpleQueue has no maxsize).  >1.00x = ours is faster.", file=out)
    header = ["pinning", "cap", "P", "variant", "median msg/s", "min", "max", "vs Queue", "vs SimpleQ"]
    rows: list[list[str]] = []
    for mode in modes:
        for capacity in args.capacities:
            for producers in args.producers:
                base_key = ("mpsc", producers, cap_label(capacity))
                q = samples.median(mode, (*base_key, QUEUE.name))
                sq = samples.median(mode, (*base_key, SIMPLE_QUEUE.name))
                for v in (*BASELINES, *IMPLEMENTATIONS):
                    key = (*base_key, v.name)
                    med = samples.median(mode, key)
                    if med is None:
                        continue
                    lo, hi = samples.spread(mode, key)
                    r_q = _ratio(med, q)
                    r_sq = _ratio(med, sq) if capacity is None else None
                    rows.append([mode, cap_label(capacity), str(producers), v.name,
                                 _fmt_rate(med), _fmt_rate(lo), _fmt_rate(hi),
                                 _fmt_ratio(r_q), _fmt_ratio(r_sq)])
                    where = f"P={producers}, cap={cap_label(capacity)}, {mode}"
                    if v is CONDITION:
                        cond_goal.cells.append((where, r_q))
                    elif v is QUEUE_BASED:
                        qb_goal.cells.append((where, r_q))
                rows.append([""] * len(header))
    _table(out, header, rows[:-1], text_cols=4)

    # -- 2. rendezvous ------------------------------------------------------------------
    queue1 = f"queue.Queue(maxsize={RENDEZVOUS_BASELINE_MAXSIZE})"
    print(f"\n2. Rendezvous hand-off: 1 producer -> 1 consumer, capacity 0, N={args.n:,} "
          f"(messages/s, median of {args.repeats})", file=out)
    print(f"   vs Queue(1) = ours / {queue1}.  >1.00x = ours is faster.", file=out)
    header = ["pinning", "variant", "median msg/s", "min", "max", "vs Queue(1)"]
    rows = []
    for mode in modes:
        base = samples.median(mode, ("rendezvous", 1, "0", queue1))
        for name in (queue1, *(v.name for v in IMPLEMENTATIONS)):
            key = ("rendezvous", 1, "0", name)
            med = samples.median(mode, key)
            if med is None:
                continue
            lo, hi = samples.spread(mode, key)
            r = _ratio(med, base)
            rows.append([mode, name, _fmt_rate(med), _fmt_rate(lo), _fmt_rate(hi), _fmt_ratio(r)])
            if name == RENDEZVOUS.name:
                rdv_goal.cells.append((mode, r))
        rows.append([""] * len(header))
    _table(out, header, rows[:-1], text_cols=2)

    # -- 3. single-thread pairs ----------------------------------------------------------
    print(f"\n3. Single-thread send+recv pair cost: {args.pairs:,} pairs on one thread, "
          f"unpinned (ns per pair, median of {args.repeats})", file=out)
    print("   Speed ratio = baseline ns / our ns: >1.00x = ours is cheaper.  SimpleQueue "
          "only at capacity None; rendezvous\n   cannot send then recv on one thread.",
          file=out)
    header = ["cap", "variant", "median ns", "min", "max", "vs Queue", "vs SimpleQ"]
    rows = []
    for capacity in args.pair_capacities:
        q = pairs.median("unpinned", ("pairs", 1, cap_label(capacity), QUEUE.name))
        sq = pairs.median("unpinned", ("pairs", 1, cap_label(capacity), SIMPLE_QUEUE.name))
        for v in pair_variants(capacity):
            key = ("pairs", 1, cap_label(capacity), v.name)
            med = pairs.median("unpinned", key)
            if med is None:
                continue
            lo, hi = pairs.spread("unpinned", key)
            rows.append([cap_label(capacity), v.name, f"{med:,.0f}", f"{lo:,.0f}",
                         f"{hi:,.0f}", _fmt_ratio(_ratio(q, med)), _fmt_ratio(_ratio(sq, med))])
        rows.append([""] * len(header))
    _table(out, header, rows[:-1], text_cols=2)
    return [cond_goal, qb_goal, rdv_goal]


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------


def _capacities(text: str) -> list[Capacity]:
    caps: list[Capacity] = []
    for part in text.split(","):
        part = part.strip()
        if part.lower() in ("none", "unbounded"):
            caps.append(None)
        elif part.isdigit() and int(part) > 0:
            caps.append(int(part))
        else:
            raise argparse.ArgumentTypeError(
                f"capacity {part!r}: use 'none' or a positive int (capacity 0 is section 2)"
            )
    return caps


def _positive_ints(text: str) -> list[int]:
    try:
        values = [int(p) for p in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: comma-separated positive ints") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: comma-separated positive ints")
    return values


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.throughput",
        description="Throughput of impls.* channels vs queue.Queue / queue.SimpleQueue.",
    )
    p.add_argument("--n", type=int, default=None,
                   help="messages per threaded measurement (default 50,000; --quick 10,000)")
    p.add_argument("--repeats", type=int, default=None,
                   help="repeats; medians are reported (default 5; --quick 3)")
    p.add_argument("--pairs", type=int, default=None,
                   help="send+recv pairs per single-thread measurement (default 100,000; --quick 20,000)")
    p.add_argument("--capacities", type=_capacities, default=[64, None],
                   help="capacities for section 1, e.g. '64,none' (the default)")
    p.add_argument("--producers", type=_positive_ints, default=[1, 2, 4],
                   help="producer thread counts for section 1 (default '1,2,4')")
    p.add_argument("--quick", action="store_true", help="a ~15 s run with smaller defaults")
    p.add_argument("--no-pin", action="store_true",
                   help="skip the pinned (taskset -c 0) variant of the threaded measurements")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    quick = args.quick
    args.n = args.n if args.n is not None else (10_000 if quick else 50_000)
    args.repeats = args.repeats if args.repeats is not None else (3 if quick else 5)
    args.pairs = args.pairs if args.pairs is not None else (20_000 if quick else 100_000)
    if args.n < 1 or args.repeats < 1 or args.pairs < 1:
        p.error("--n, --repeats and --pairs must be positive")
    args.pair_capacities = [None, 64]
    return args


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> list[Goal]:
    """Run the benchmark, print the tables and the goals; return the evaluated goals."""
    out = out if out is not None else sys.stdout
    args = parse_args(argv)
    if args.worker:
        worker_main(args)
        return []

    modes: list[Mode] = ["unpinned"]
    pin_note = "disabled by --no-pin" if args.no_pin else pinning_unavailable()
    if pin_note is None:
        modes.append("pinned")

    print("MPSC channel throughput benchmark", file=out)
    print(f"  python {platform.python_version()} ({platform.python_implementation()}), "
          f"{os.cpu_count()} CPUs, switch interval {sys.getswitchinterval() * 1000:g} ms", file=out)
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "n/a"
    print(f"  this process (unpinned runs) may use CPUs {affinity}", file=out)
    if pin_note is None:
        print("  pinned runs: a child process per repeat under `taskset -c 0`", file=out)
    else:
        print(f"  NOTE: pinned runs skipped: {pin_note}", file=out)
    print(f"  N={args.n:,} messages, repeats={args.repeats}, pairs={args.pairs:,}, "
          f"capacities={[cap_label(c) for c in args.capacities]}, producers={args.producers}",
          file=out)
    out.flush()

    jobs = threaded_jobs(args.producers, args.capacities)
    samples, pair_samples = Samples(), Samples()
    began = time.perf_counter()
    for repeat in range(args.repeats):
        samples.add("unpinned", run_threaded_round(jobs, args.n, warmup=repeat == 0))
        if "pinned" in modes:
            pinned, child_affinity = run_pinned_round(args)
            if child_affinity != [0]:
                raise RuntimeError(f"pinned child ran on CPUs {child_affinity}, not [0]")
            samples.add("pinned", pinned)
        for capacity in args.pair_capacities:
            pair_samples.add("unpinned", {
                ("pairs", 1, cap_label(capacity), v.name): measure_pair_ns(v, capacity, args.pairs)
                for v in pair_variants(capacity)
            })
        print(f"  repeat {repeat + 1}/{args.repeats} done "
              f"({time.perf_counter() - began:.1f} s)", file=out)
        out.flush()

    goals = report(out, args, samples, pair_samples, modes)
    print(f"\nGoals (judged on the medians above, over {' and '.join(modes)} runs; "
          "every cell must meet the bar):", file=out)
    for goal in goals:
        goal.report(out)
    print(f"\nTotal time {time.perf_counter() - began:.1f} s.", file=out)
    return goals


if __name__ == "__main__":
    main()
