"""Smoke test of ``benchmarks.throughput``: the smallest run completes and prints every part.

It checks that the harness works, not any number: goals are reported, never asserted.
"""

from __future__ import annotations

import io
import time

from benchmarks.throughput import main


def test_throughput_benchmark_smallest_run_completes() -> None:
    out = io.StringIO()
    began = time.perf_counter()
    goals = main(["--n", "200", "--repeats", "1", "--pairs", "200", "--no-pin"], out=out)
    elapsed = time.perf_counter() - began
    text = out.getvalue()
    assert elapsed < 5.0, f"smoke run took {elapsed:.1f} s"
    for heading in ("1. Multi-producer throughput", "2. Rendezvous hand-off", "3. Single-thread"):
        assert heading in text
    assert "pinned runs skipped: disabled by --no-pin" in text
    assert len(goals) == 3
    assert all(("MET" in line) for line in text.splitlines() if line.startswith("  [")), text
