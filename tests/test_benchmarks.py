"""Smoke tests of ``benchmarks.throughput`` and ``benchmarks.checkers``: the smallest runs
complete and print every part.

They check that the harnesses work, not any number: goals are reported, never asserted.
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


def test_checkers_benchmark_smallest_run_finds_every_injected_violation() -> None:
    text = subprocess.run(
        [sys.executable, "-m", "benchmarks.checkers", "--sizes", "200", "--processes", "1", "--repeats", "1"],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=True).stdout
    for heading in ("0. Generator self-check", "1. Valid histories", "2. Time on the valid history",
                    "3. Peak memory", "4. Scaling", "5. Injected violations", "Goals:"):
        assert heading in text, text
    assert "FAILED" not in text and "FALSE ALARM" not in text, text  # the generator's histories are valid
    kinds = ("phantom receive", "duplicate receive", "lost message", "causality", "per-producer order",
             "real-time FIFO", "bogus Empty", "bogus Full", "premature Disconnected", "synchronisation")
    table = text.split("5. Injected violations", 1)[1].split("Checks that said VIOLATION", 1)[0]
    rows = {line.split("  ")[0]: line for line in table.splitlines()}
    for kind in kinds:
        assert kind in rows and rows[kind].rstrip().endswith("FOUND"), table
    assert "MISSED" not in table and "NO SITE" not in table, table
    assert "[MET] every injected violation is found" in text, text
    assert text.count("  [") >= 3  # one line per goal
