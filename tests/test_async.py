"""Async channels: the bundled asyncio channel conforms in both halves of the suite, broken
async channels are rejected, the bridge is faithful (exceptions, abandoned callers, arguments),
and the trio path works where trio is installed (a clean skip where it is not)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import sys
import threading
import weakref

import pytest
from hypothesis import Phase

import conformance
from conformance import Status
from conformance._async import bridge, run_scenario_async
from conformance._calls import Hung, Shape, Worker
from conformance._concurrent import ITERATE, Scenario, Step
from conformance._concurrent_suite import check_history
from conformance._evidence import Verdict3
from conformance._runner import run_concurrent_check, run_sequential
from conformance._target import make_target
from conformance.history import Kind
from impls import asyncio_based
from spec import Disconnected, Empty, Full, HandleClosed, LibraryMissing, Offers, Rule, Timeout

PROFILE = conformance.QUICK
EXAMPLES = 25  # per capacity and half: the bundled threaded channels get 50 on four interpreters
FIND_ONLY = {"phases": (Phase.explicit, Phase.reuse, Phase.generate)}


def _target(name: str) -> conformance.Target:
    module, _, attr = name.partition(":")
    return make_target(name, getattr(__import__(module), attr))


# -- the bundled asyncio channel ------------------------------------------------------------


@pytest.mark.parametrize("capacity", [None, 0, 1, 3], ids=repr)
def test_asyncio_channel_conforms_in_both_halves(capacity: int | None) -> None:
    verdicts = conformance.check(asyncio_based.channel, [capacity], profile=PROFILE, max_examples=EXAMPLES)
    assert [v.status for v in verdicts] == [Status.PASSED] * 3, [
        v.report.render() if v.report else v for v in verdicts if v.status is not Status.PASSED]
    assert verdicts[1].examples >= EXAMPLES and verdicts[2].examples >= EXAMPLES


def test_asyncio_channel_native_use() -> None:
    """The async contract as a user writes it: await, async for, async with, timeouts."""

    async def main() -> list[object]:
        tx, rx = asyncio_based.channel(1)
        async with tx:
            tx2 = tx.clone()

            async def produce() -> None:
                with tx2:
                    for i in range(3):
                        await tx2.send(i)

            task = asyncio.create_task(produce())
            tx.try_send("first")  # full now: the producer has not run yet
            with pytest.raises(Timeout) as timed_out:
                await tx.send("late", timeout=0)
            assert timed_out.value.value == "late"
        got = [v async for v in rx]  # ends once tx (closed by `async with`) and tx2 are closed
        await task
        with pytest.raises(HandleClosed):
            await tx.send("x")
        async with rx:
            pass
        with pytest.raises(HandleClosed):
            rx.try_recv()
        return got

    assert asyncio.run(main()) == ["first", 0, 1, 2]


def test_cancelling_a_receive_that_was_handed_a_value_gives_it_back() -> None:
    """A claim filled just before its task is cancelled: the message is not lost (it is the
    oldest, so it comes first), and a parked send cancelled before being taken delivers nothing."""

    async def main() -> None:
        tx, rx = asyncio_based.channel(0)
        receiving = asyncio.create_task(rx.recv())
        await asyncio.sleep(0)  # parked
        tx.try_send("handed")  # fills its claim; the task has not run since
        receiving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await receiving
        assert rx.try_recv() == "handed"
        sending = asyncio.create_task(tx.send("withdrawn"))
        await asyncio.sleep(0)  # parked with its offer
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending
        with pytest.raises(Empty):
            rx.try_recv()

    asyncio.run(main())


def test_asyncio_channel_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError):
        asyncio_based.channel(-1)
    with pytest.raises(TypeError):
        asyncio_based.channel(True)  # type: ignore[arg-type]

    async def main() -> None:
        tx, rx = asyncio_based.channel(None)
        with pytest.raises(ValueError):
            await tx.send(1, timeout=-1)
        with pytest.raises(ValueError):
            await rx.recv(timeout=float("nan"))
        with pytest.raises(Empty):
            rx.try_recv()  # the bad send changed nothing

    asyncio.run(main())


# -- broken async channels ---------------------------------------------------------------------


def test_lost_wakeup_in_async_code_is_found_as_a_hang() -> None:
    verdict = run_concurrent_check(_target("broken_async_channels:lost_wakeup"), None, profile=PROFILE,
                                   max_examples=200, **FIND_ONLY)
    assert verdict.status is Status.FAILED
    report = verdict.report
    assert report is not None and report.blocked, report.render() if report else verdict
    assert any(op.kind is Kind.RECV for op in report.blocked)
    assert "never returned" in report.render()


def test_timed_out_send_that_delivers_anyway_is_rejected_for_rule_9() -> None:
    target = _target("broken_async_channels:timeout_delivers")
    verdict = run_concurrent_check(target, 0, profile=PROFILE, max_examples=200, **FIND_ONLY)
    assert verdict.status is Status.FAILED and verdict.report is not None
    assert ("integrity", Rule.VALUES) in {(f.check, f.rule) for f in verdict.report.findings}, verdict.report.render()
    # The lockstep machine sees it too: the value shows up where the model has nothing.
    sequential = run_sequential(target, 0, profile=PROFILE, max_examples=300, **FIND_ONLY)
    assert sequential.status is Status.FAILED and sequential.report is not None
    assert "raises=Timeout" in "\n".join(sequential.report.script)


# -- the bridge ------------------------------------------------------------------------------


class _Odd(Exception):
    """Not a channel outcome: must reach the caller as itself."""


def _raising_channel(capacity: int | None = None) -> tuple[object, object]:
    """An async channel whose calls raise what the test stores in ``raised``."""
    tx, rx = asyncio_based.channel(capacity)

    class Tx:
        async def send(self, value: object, **kwargs: object) -> None:
            _raising_channel.calls.append(("send", value, kwargs))  # type: ignore[attr-defined]
            if _raising_channel.raised is not None:  # type: ignore[attr-defined]
                raise _raising_channel.raised  # type: ignore[attr-defined]

        try_send, clone, close = tx.try_send, tx.clone, tx.close

    return Tx(), rx


_raising_channel.offers = Offers(runtime="asyncio")  # type: ignore[attr-defined]


def test_bridge_propagates_exceptions_unchanged_and_passes_arguments_through() -> None:
    tx, rx = bridge(_raising_channel, "asyncio")(1)
    _raising_channel.calls = []  # type: ignore[attr-defined]
    for raised in (_Odd("boom"), ValueError("bad timeout"), Timeout(value=object())):
        _raising_channel.raised = raised  # type: ignore[attr-defined]
        with pytest.raises(type(raised)) as caught:
            tx.send("v", timeout=-1)
        assert caught.value is raised
    _raising_channel.raised = None  # type: ignore[attr-defined]
    tx.send("w")
    assert _raising_channel.calls[-1] == ("send", "w", {})  # type: ignore[attr-defined]
    assert _raising_channel.calls[0] == ("send", "v", {"timeout": -1})  # type: ignore[attr-defined]
    payload = object()
    tx.try_send(payload)
    full = object()
    with pytest.raises(Full) as caught_full:
        tx.try_send(full)
    assert caught_full.value.value is full
    assert rx.recv() is payload
    tx.close()
    with pytest.raises(Disconnected):
        rx.recv(timeout=1)
    with pytest.raises(TypeError):
        bridge(asyncio_based.channel, "asyncio")(1.5)


def test_bridge_survives_a_caller_that_gives_up() -> None:
    tx, rx = bridge(asyncio_based.channel, "asyncio")(0)
    worker = Worker("test-abandoned")
    assert isinstance(worker.call(rx.recv, Shape.VALUE, 0.05), Hung)  # it stays blocked, as a task
    tx2 = tx.clone()  # the loop still serves every other call
    tx2.try_send("taken")  # a rendezvous try_send succeeds: the abandoned receive is parked, waiting
    with pytest.raises(Empty):
        rx.try_recv()  # ...and it took the message
    with pytest.raises(Full):
        tx2.try_send("nobody waiting now")
    tx.close()
    tx2.close()
    with pytest.raises(Disconnected):
        rx.recv(timeout=1)


def test_bridge_proxies_stop_their_loop_when_collected() -> None:
    tx, rx = bridge(asyncio_based.channel, "asyncio")(None)
    tx.send(1)
    loop_thread = tx._channel.loop.thread  # type: ignore[attr-defined]
    assert loop_thread.is_alive()
    del tx, rx
    gc.collect()
    loop_thread.join(2)
    assert not loop_thread.is_alive()


def test_stopping_a_loop_cancels_the_calls_still_blocked_in_it() -> None:
    _tx, rx = bridge(asyncio_based.channel, "asyncio")(None)
    outcome: list[BaseException] = []

    def blocked() -> None:
        try:
            rx.recv()
        except BaseException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=blocked, daemon=True)
    caller.start()
    caller.join(0.05)
    rx._channel.loop.stop()  # type: ignore[attr-defined]  # what collection does, without waiting for it
    caller.join(2)
    assert outcome and isinstance(outcome[0], concurrent.futures.CancelledError)


def test_bridge_refuses_calls_from_its_own_loop() -> None:
    tx, rx = bridge(asyncio_based.channel, "asyncio")(None)
    loop = tx._channel.loop  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="own event loop"):
        loop.run_sync(lambda: tx.try_send(1))
    tx.close()
    rx.close()


# -- the async concurrent runner ------------------------------------------------------------


def test_async_runner_records_a_history_the_checkers_accept() -> None:
    scenario = Scenario(1, ((Step(Kind.SEND), Step(Kind.SEND), Step(Kind.CLONE), Step(Kind.SEND)),
                            (Step(Kind.TRY_SEND), Step(Kind.SEND_TIMEOUT, timeout=0.002))),
                        (Step(Kind.RECV), Step(Kind.TRY_RECV), Step(ITERATE)))
    run = run_scenario_async(asyncio_based.channel, scenario, "asyncio", bound=2.0)
    assert not run.crashes and not run.blocked
    sends = [op for op in run.history.operations if op.kind.is_send]
    assert len(sends) == 5
    received = [op.result for op in run.history.operations if op.kind.is_recv and op.result is not None]
    assert sorted(received) == sorted(op.value for op in sends if op.status.value == "ok")
    assert all(f.verdict is not Verdict3.VIOLATION for f in check_history(run.history))


def test_async_runner_reports_a_crash_with_its_traceback() -> None:
    """An exception outside the outcome set, raised in a task, ends the run with its traceback."""

    class Handles:
        def __init__(self, inner: object) -> None:
            self.inner = inner

        def clone(self) -> object:
            return Crashing()

        def close(self) -> None:
            self.inner.close()  # type: ignore[attr-defined]

    class Crashing:
        async def send(self, value: object, timeout: object = None) -> None:
            raise ZeroDivisionError("in the implementation")

        def close(self) -> None:
            pass

    def factory(capacity: int | None) -> tuple[object, object]:
        tx, rx = asyncio_based.channel(capacity)
        return Handles(tx), rx

    scenario = Scenario(1, ((Step(Kind.SEND),),), (Step(ITERATE),))
    run = run_scenario_async(factory, scenario, "asyncio", bound=2.0)
    assert run.crashes and "ZeroDivisionError" in run.crashes[0].error
    assert "in the implementation" in run.crashes[0].traceback


# -- trio --------------------------------------------------------------------------------------


def test_trio_channel_conforms_in_both_halves() -> None:
    pytest.importorskip("trio", reason="trio is an optional dependency (the `trio` extra)")
    import trio_channels

    for capacity in (None, 0, 2):
        verdicts = conformance.check(trio_channels.channel, [capacity], profile=PROFILE, max_examples=15)
        assert [v.status for v in verdicts] == [Status.PASSED] * 3, [
            v.report.render() if v.report else v for v in verdicts if v.status is not Status.PASSED]


def test_trio_bridge_survives_a_caller_that_gives_up() -> None:
    pytest.importorskip("trio", reason="trio is an optional dependency (the `trio` extra)")
    import trio_channels

    tx, rx = bridge(trio_channels.channel, "trio")(1)
    background = Worker("test-abandoned-trio")
    assert isinstance(background.call(rx.recv, Shape.VALUE, 0.05), Hung)
    tx.send("taken by the abandoned call")  # handed to the task still blocked in the loop
    with pytest.raises(Empty):
        rx.try_recv()
    rx.close()
    with pytest.raises(Disconnected):
        tx.send("after close")


def test_trio_missing_is_library_missing_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trio", None)  # what an absent trio looks like to `import trio`

    def channel(capacity: int | None = None) -> tuple[object, object]:
        raise AssertionError("never called without trio")

    channel.offers = Offers(runtime="trio")  # type: ignore[attr-defined]
    with pytest.raises(LibraryMissing, match="trio"):
        bridge(channel, "trio")(1)
    with pytest.raises(LibraryMissing, match="trio"):
        run_scenario_async(channel, Scenario(1, ((Step(Kind.SEND),),), (Step(ITERATE),)), "trio", bound=1.0)


def test_weakref_of_proxy_targets_is_not_kept_by_the_loop() -> None:
    """Rule 9 through the bridge: a delivered message is not kept by the loop machinery."""

    class Payload:
        pass

    tx, rx = bridge(asyncio_based.channel, "asyncio")(0)
    value = Payload()
    ref = weakref.ref(value)
    done = threading.Event()
    threading.Thread(target=lambda: (rx.recv(), done.set()), daemon=True).start()
    tx.send(value)
    assert done.wait(2)
    del value
    gc.collect()
    assert ref() is None
