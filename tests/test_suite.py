"""The sequential suite passes every bundled implementation and rejects known bugs, naming
the rule each breaks; a hanging implementation fails with a diagnosis, not a hung run."""

from __future__ import annotations

import pytest
from hypothesis import Phase

import conformance
from conformance import BUNDLED, Status, load
from conformance._runner import DEFAULT_CAPACITIES, run_sequential
from spec import Rule

PROFILE = conformance.QUICK
# Half the quick profile's examples per capacity: the suite's own runs of the bundled channels
# repeat on four interpreters; `python -m conformance check --bundled` runs the full profile.
BUNDLED_EXAMPLES = 50
# Detection tests need not wait for shrinking (one test below checks the shrunk replay).
FIND_ONLY = {"phases": (Phase.explicit, Phase.reuse, Phase.generate)}


@pytest.mark.parametrize("capacity", DEFAULT_CAPACITIES, ids=repr)
@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_implementation_conforms(name: str, capacity: int | None) -> None:
    target = load(name)
    verdict = run_sequential(target, capacity, profile=PROFILE, max_examples=BUNDLED_EXAMPLES)
    if not target.offers(capacity):
        assert verdict.status is Status.NOT_OFFERED
        return
    assert verdict.status is Status.PASSED, verdict.report.render() if verdict.report else verdict
    assert verdict.examples >= BUNDLED_EXAMPLES  # the machine really ran


@pytest.mark.parametrize(
    ("name", "capacity", "rules"),
    [
        ("broken_channels:no_drain", 2, {Rule.PRECEDENCE, Rule.SENDER_CLOSE}),
        ("broken_channels:keeps_last", None, {Rule.VALUES}),
        ("broken_channels:off_by_one", 1, {Rule.BOUNDED}),
        ("broken_channels:deaf", 1, {Rule.SENDER_CLOSE, Rule.IN_FLIGHT}),  # wakes no one
    ],
)
def test_known_bug_is_rejected_for_the_right_rule(name: str, capacity: int | None, rules: set[Rule]) -> None:
    verdict = run_sequential(load(name), capacity, profile=PROFILE, max_examples=300, **FIND_ONLY)
    assert verdict.status is Status.FAILED
    assert verdict.report is not None
    assert verdict.report.rule in rules, verdict.report.render()
    text = verdict.report.render()
    assert f"from broken_channels import {name.split(':')[1]} as channel" in text
    assert "# <- FAILS" in text


def test_hang_is_reported_with_the_blocked_call_and_model_state() -> None:
    verdict = run_sequential(load("broken_channels:deaf"), 0, profile=PROFILE, max_examples=300, **FIND_ONLY)
    assert verdict.report is not None
    text = verdict.report.render()
    assert "did not return within" in text
    assert "Model state:" in text and "parked" in text


def test_replay_script_reproduces_the_failure(tmp_path: pytest.TempPathFactory) -> None:
    verdict = run_sequential(load("broken_channels:off_by_one"), 1, profile=PROFILE, max_examples=300)
    assert verdict.report is not None
    script = "\n".join(verdict.report.script)
    with pytest.raises(AssertionError):
        exec(compile(script, "<replay>", "exec"), {})
    # ...and the same script passes against a correct implementation
    fixed = script.replace("from broken_channels import off_by_one as channel",
                           "from impls.condition_based import channel")
    fixed = fixed.replace("# <- FAILS", "#")
    exec(compile(fixed.rsplit("\n", 1)[0], "<replay>", "exec"), {})


def test_assert_conforms_raises_with_the_report() -> None:
    with pytest.raises(AssertionError, match="DOES NOT CONFORM"):
        conformance.assert_conforms("broken_channels:off_by_one", [1], max_examples=300)
    conformance.assert_conforms("impls.rendezvous:channel", [0], max_examples=20)


def test_check_accepts_a_callable() -> None:
    from impls.condition_based import channel

    verdicts = conformance.check(channel, [2], max_examples=10)
    assert [v.check for v in verdicts] == ["capacity arguments", "sequential, capacity 2", "concurrent, capacity 2"]
    assert [v.status for v in verdicts] == [Status.PASSED] * 3
