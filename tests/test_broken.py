"""The suite proves itself: every broken implementation is rejected, for the reason its file
names, and the mutation-score and false-alarm commands report what they find."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from conformance._mutation import reasons_of, score_one
from conformance._runner import Status, Verdict
from impls.broken import CONCURRENT_CHECKS, Expect, broken_modules
from spec import Rule

MODULES = broken_modules()

# Checks no channel can trip: they judge the record itself (well-formed ids, handles and
# times; a receive after its send began, with values the harness makes up just before each
# send).  They guard histories recorded elsewhere (check-history) and are tested on the golden
# histories in tests/histories instead.
RECORD_CHECKS = frozenset({"well_formed", "causality"})


def _name(module: ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[-1]


def test_enough_broken_implementations_covering_every_rule_and_check() -> None:
    assert len(MODULES) >= 15
    broken = set().union(*(m.EXPECT.breaks for m in MODULES))
    assert broken == set(Rule), f"no broken implementation breaks {sorted(r.name for r in set(Rule) - broken)}"
    caught_by = set().union(*(m.EXPECT.checks for m in MODULES))
    assert caught_by | RECORD_CHECKS == CONCURRENT_CHECKS, sorted(CONCURRENT_CHECKS - caught_by - RECORD_CHECKS)
    both = {m.EXPECT.concurrent_only for m in MODULES}
    assert both == {True, False}, "some bugs must be visible to one thread, some only under concurrency"


@pytest.mark.parametrize("module", MODULES, ids=_name)
def test_each_file_says_what_is_wrong(module: ModuleType) -> None:
    assert isinstance(module.EXPECT, Expect)
    doc = module.__doc__ or ""
    assert len(doc.split()) >= 20, "the module docstring explains the bug"
    assert "BUG" in Path(module.__file__).read_text(encoding="utf-8"), "the faulty line is marked"
    assert callable(module.channel)


def test_expect_rejects_unknown_checks_and_empty_expectations() -> None:
    with pytest.raises(ValueError, match="unknown concurrent checks"):
        Expect(capacities=(1,), checks=frozenset({"vibes"}))
    with pytest.raises(ValueError, match="at least one"):
        Expect(capacities=(1,))
    with pytest.raises(ValueError, match="caught by checks"):
        Expect(capacities=(1,), rules=frozenset({Rule.BOUNDED}), concurrent_only=True)


def test_reasons_of_a_verdict_without_report() -> None:
    assert reasons_of(Verdict("capacity arguments", Status.FAILED, problems=("x",))) == ("arguments",)
    assert reasons_of(Verdict("sequential, capacity 1", Status.PASSED)) == ()


@pytest.mark.mutation
@pytest.mark.parametrize("module", MODULES, ids=_name)
def test_rejected_for_the_intended_reason(module: ModuleType) -> None:
    """The default profile catches it, for a reason its file names, not by a crash; a bug
    declared invisible to one thread passes the sequential suite and is caught concurrently.
    A race is found by chance: these get up to 600 scenarios per capacity (the quick profile's
    200 catch them in most runs; the command reports how fast), so the test is not flaky."""
    result = score_one(module, profile="quick", concurrent_examples=600 if module.EXPECT.concurrent_only else None)
    assert result.caught, f"{result.name}: {result.problem} ({result.headline})"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "conformance", *args], capture_output=True, text=True,
                          timeout=600, check=False)


def test_mutation_score_command_prints_the_table() -> None:
    done = _cli("mutation-score", "--only", "clone_same_handle", "--only", "rendezvous_buffers")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "clone_same_handle" in done.stdout and "rule 4 (clone)" in done.stdout
    assert "mutation score: 2/2" in done.stdout and "time to catch" in done.stdout


def test_mutation_score_names_an_unknown_implementation() -> None:
    done = _cli("mutation-score", "--only", "no_such_bug")
    assert done.returncode == 2
    assert "no broken implementation named no_such_bug" in done.stderr and "off_by_one" in done.stderr


def test_false_alarms_on_a_correct_channel() -> None:
    done = _cli("false-alarms", "impls.rendezvous:channel", "--runs", "2", "--capacity", "0", "--max-examples", "10")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 full runs" in done.stdout and "0 failure(s)" in done.stdout


def test_false_alarms_reports_a_failing_channel() -> None:
    """The command can fail: pointed at a broken channel, every run is an alarm."""
    done = _cli("false-alarms", "impls.broken.clone_same_handle:channel", "--runs", "1", "--capacity", "None",
                "--max-examples", "10")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FALSE ALARM?" in done.stdout and "rule 4" in done.stdout
