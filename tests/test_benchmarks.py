"""Smoke test of ``benchmarks.throughput``: the smallest run completes and prints every part.

It checks that the harness works, not any number: goals are reported, never asserted.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_throughput_benchmark_smallest_run_completes() -> None:
    # Run from the checkout, as users do: `benchmarks` is not part of the installed package.
    text = subprocess.run(
        [sys.executable, "-m", "benchmarks.throughput", "--n", "200", "--repeats", "1", "--pairs", "200",
         "--no-pin"], capture_output=True, text=True, cwd=ROOT, timeout=120, check=True).stdout
    for heading in ("1. Multi-producer throughput", "2. Rendezvous hand-off", "3. Single-thread"):
        assert heading in text
    assert "pinned runs skipped: disabled by --no-pin" in text
    assert text.count("  [") >= 3  # one line per goal
    assert all(("MET" in line) for line in text.splitlines() if line.startswith("  [")), text
