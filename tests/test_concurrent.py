"""Concurrent runs on real threads: what is recorded, and that hangs and crashes become
reports instead of hung or silent runs."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings

import conformance
from conformance import BUNDLED, Status, load
from conformance._concurrent import ITERATE, Scenario, Step, run_scenario
from conformance._concurrent_suite import run_concurrent, scenarios
from conformance._runner import DEFAULT_CAPACITIES, run_concurrent_check, run_sequential
from conformance.history import Kind, dumps, loads
from conformance.history import Status as OpStatus
from impls import condition_based

S = Step
SIMPLE = Scenario(2, ((S(Kind.SEND), S(Kind.SEND, pause=1), S(Kind.CLONE), S(Kind.TRY_SEND)),
                      (S(Kind.SEND_TIMEOUT, 0.01), S(Kind.CLOSE_SENDER), S(Kind.SEND))),
                  (S(Kind.TRY_RECV), S(Kind.RECV_TIMEOUT, 0.002), S(ITERATE)))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(scenarios(1))
def test_recorded_history_is_well_formed(scenario: Scenario) -> None:
    run = run_scenario(condition_based.channel, scenario)
    assert not run.hung and not run.crashes
    history = loads(dumps(run.history))  # survives the file format, whose loader validates
    assert sorted(history.operations, key=lambda o: o.id) == sorted(run.history.operations, key=lambda o: o.id)
    sent = [op.value for op in history.operations if op.kind.is_send]
    assert len(sent) == len(set(sent))  # values are unique
    received = [op.result for op in history.operations if op.kind.is_recv and op.status is OpStatus.OK]
    ok_sent = {op.value for op in history.operations if op.kind.is_send and op.status is OpStatus.OK}
    closed = any(op.kind is Kind.CLOSE_RECEIVER for op in history.operations)
    assert set(received) <= ok_sent
    if not closed:
        assert sorted(map(str, received)) == sorted(map(str, ok_sent))  # drained at the end


def test_producer_closes_make_the_consumer_iteration_end() -> None:
    run = run_scenario(condition_based.channel, SIMPLE)
    consumer = run.history.by_thread()["consumer"]
    assert consumer[-1].kind is Kind.RECV and consumer[-1].status is OpStatus.DISCONNECTED
    handles = {0} | {op.result for op in run.history.operations if op.kind is Kind.CLONE}
    closed = {op.handle for op in run.history.operations if op.kind is Kind.CLOSE_SENDER}
    assert handles == closed


def test_hang_is_reported_with_the_blocked_threads() -> None:
    verdict = run_concurrent_check(load("broken_channels:deaf"), 1, profile=conformance.QUICK)
    assert verdict.status is Status.FAILED and verdict.report is not None
    text = verdict.report.render()
    assert "blocked for good" in text
    assert "thread consumer: recv ... (never returned)" in text
    assert "!! recv ... (never returned)" in text  # marked in the timeline


def test_exception_in_a_thread_fails_the_run_with_its_traceback() -> None:
    run = run_scenario(load("broken_channels:crashy").factory, SIMPLE)
    assert len(run.crashes) == 1
    crash = run.crashes[0]
    assert "TypeError: unsupported operand" in crash.error
    assert "Traceback" in crash.traceback
    report, _ = run_concurrent(load("broken_channels:crashy").factory, 2, target="crashy",
                               hypothesis_settings=settings(max_examples=30, deadline=None, database=None,
                                                            phases=(Phase.generate,)))
    assert report is not None and "an exception in thread" in report.render()


@pytest.mark.parametrize("capacity", DEFAULT_CAPACITIES, ids=repr)
@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_implementation_passes_the_concurrent_suite(name: str, capacity: int | None) -> None:
    target = load(name)
    verdict = run_concurrent_check(target, capacity, profile=conformance.QUICK, max_examples=60)
    if not target.offers(capacity):
        assert verdict.status is Status.NOT_OFFERED
        return
    assert verdict.status is Status.PASSED, verdict.report.render() if verdict.report else verdict
    assert verdict.examples >= 20


def test_a_bug_only_concurrency_shows_is_found_and_explained() -> None:
    """A lost wake-up (check the buffer, drop the lock, then wait) never shows in the
    sequential suite; the concurrent one finds it (preemption points inside the implementation
    make that likely; a lucky switch may find it without them) and reports the blocked threads."""
    target = load("broken_channels:lost_wakeup")
    assert run_sequential(target, 1, profile=conformance.QUICK, max_examples=30).status is Status.PASSED
    verdict = run_concurrent_check(target, 1, profile=conformance.QUICK)
    assert verdict.status is Status.FAILED and verdict.report is not None
    text = verdict.report.render()
    assert "blocked for good" in text and "thread consumer: recv" in text
    assert "Reproduced in" in text
