"""The driver proxy (``conformance._driver``): channels in other languages as channel factories.

Two kinds of driver: the real Rust ``std::sync::mpsc`` driver (built once per session with
``drivers/build``; skipped, by name, without cargo), and ``fixtures/fake_driver.py``, a Python
driver that is correct in mode ``good`` and misbehaves in exactly one way in each other mode, so
that every failure the proxy must report clearly (never as a hang) has a test.
"""

from __future__ import annotations

import gc
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import conformance
from conformance import TargetError
from conformance._driver import (
    DriverError,
    DriverFactory,
    Phantom,
    Unsupported,
    bundled_command,
    driver_factory,
    load_driver_target,
)
from spec import Disconnected, Empty, Feature, Full, HandleClosed, Rule, Timeout

ROOT = Path(__file__).resolve().parent.parent
FAKE = Path(__file__).resolve().parent / "fixtures" / "fake_driver.py"
WAIT = 5.0  # seconds anything that must happen now may take on a loaded machine


def fake(mode: str) -> list[str]:
    return [sys.executable, str(FAKE), mode]


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie counts as gone: it has exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def eventually(predicate: Callable[[], bool], what: str) -> None:
    give_up = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < give_up, what
        time.sleep(0.01)


def pid_of(handle: Any) -> int:
    return int(handle._channel.process.pid)


def in_thread(call: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """Run ``call`` on a new thread; the list gets its result or the exception it raised."""
    out: list[object] = []

    def run() -> None:
        try:
            out.append(call())
        except BaseException as exc:  # the test inspects it
            out.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to see processes")


# -- the real Rust std driver ---------------------------------------------------------------


@pytest.fixture(scope="session")
def rust_std() -> DriverFactory:
    if shutil.which("cargo") is None:
        pytest.skip("driver rust-std: cargo not found")
    build = subprocess.run([str(ROOT / "drivers" / "build"), "rust-std"], capture_output=True, text=True,
                           timeout=600)
    assert build.returncode == 0, f"drivers/build rust-std failed:\n{build.stdout}\n{build.stderr}"
    assert build.stdout.startswith("built rust-std in "), build.stdout
    name, factory = load_driver_target("driver:rust-std")
    assert name == "driver:rust-std"
    return factory


def test_rust_std_hello_declares_what_std_lacks(rust_std: DriverFactory) -> None:
    offers = rust_std.offers
    assert offers.library == "std::sync::mpsc"
    assert offers.version  # the toolchain's
    assert offers.missing == {Feature.SEND_TIMEOUT, Feature.CLOSE_WHILE_BLOCKED}
    assert all(c in rust_std.capacities for c in (None, 0, 1, 5))


def test_rust_std_outcomes_carry_the_very_objects(rust_std: DriverFactory) -> None:
    tx, rx = rust_std(1)
    first, second = object(), ["unhashable"]
    tx.send(first)
    with pytest.raises(Full) as full:
        tx.try_send(second)
    assert full.value.value is second
    assert rx.recv() is first
    with pytest.raises(Empty):
        rx.try_recv()
    with pytest.raises(Timeout):
        rx.recv(timeout=0.01)
    tx2 = tx.clone()
    tx.close()
    tx.close()  # idempotent
    with pytest.raises(HandleClosed) as closed:
        tx.send(second)
    assert closed.value.value is second
    with pytest.raises(HandleClosed):
        tx.clone()
    tx2.send(None)
    tx2.close()
    assert list(rx) == [None]  # drained, then disconnected
    with pytest.raises(Disconnected):
        rx.try_recv()
    rx.close()
    with pytest.raises(HandleClosed):
        rx.recv()


def test_rust_std_threads_really_block_and_wake(rust_std: DriverFactory) -> None:
    tx, rx = rust_std(0)
    value = object()
    thread, out = in_thread(lambda: tx.send(value))
    thread.join(0.1)
    assert thread.is_alive(), "a rendezvous send returned with nobody receiving"
    assert rx.recv(timeout=WAIT) is value
    thread.join(WAIT)
    assert out == [None]
    thread, out = in_thread(rx.recv)
    thread.join(0.1)
    assert thread.is_alive()
    tx.close()  # the last sender: wakes the blocked recv
    thread.join(WAIT)
    assert len(out) == 1 and isinstance(out[0], Disconnected)


def test_rust_std_receiver_close_wakes_blocked_sender_with_its_value(rust_std: DriverFactory) -> None:
    tx, rx = rust_std(1)
    tx.send(1)
    value = object()
    thread, out = in_thread(lambda: tx.send(value))
    thread.join(0.1)
    assert thread.is_alive()
    rx.close()
    thread.join(WAIT)
    assert len(out) == 1 and isinstance(out[0], Disconnected) and out[0].value is value


def test_rust_std_bad_arguments_are_refused_in_python(rust_std: DriverFactory) -> None:
    with pytest.raises(ValueError):
        rust_std(-1)
    with pytest.raises(TypeError):
        rust_std(True)
    tx, rx = rust_std(None)
    with pytest.raises(ValueError):
        rx.recv(timeout=-1)
    with pytest.raises(ValueError):
        tx.send(1, timeout=float("nan"))
    tx.send(1, timeout=float("inf"))  # "forever": sent as null, so a plain send, offered
    assert rx.recv(timeout=1e10) == 1


def test_rust_std_missing_feature_is_a_clear_not_implemented(rust_std: DriverFactory) -> None:
    tx, _ = rust_std(1)
    with pytest.raises(Unsupported, match="send_timeout") as info:
        tx.send(object(), timeout=0.5)
    assert isinstance(info.value, NotImplementedError)


def test_rust_std_keeps_no_reference_to_delivered_or_discarded_values(rust_std: DriverFactory) -> None:
    class Message:
        pass

    tx, rx = rust_std(None)
    delivered, discarded = Message(), Message()
    refs = [weakref.ref(delivered), weakref.ref(discarded)]
    tx.send(delivered)
    tx.send(discarded)
    assert rx.recv() is delivered
    rx.close()  # discards the buffer: nothing can come back
    del delivered, discarded
    gc.collect()
    assert [r() for r in refs] == [None, None]


@needs_proc
def test_rust_std_exits_promptly_on_quit_or_eof_with_threads_blocked(rust_std: DriverFactory) -> None:
    (exe,) = bundled_command("rust-std")
    for ending in ("quit", "eof"):
        proc = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdin is not None and proc.stdout is not None
        assert '"mpsc-driver/1"' in proc.stdout.readline()
        proc.stdin.write('{"id": 1, "thread": "t1", "op": "new", "capacity": 0}\n'
                         '{"id": 2, "thread": "t2", "op": "recv", "handle": "r0", "timeout": null}\n'
                         '{"id": 3, "thread": "t3", "op": "send", "handle": "s0", "value": 7, "timeout": null}\n'
                         '{"id": 4, "thread": "t4", "op": "send", "handle": "s0", "value": 8, "timeout": null}\n')
        if ending == "quit":
            proc.stdin.write('{"id": 5, "thread": "t1", "op": "quit"}\n')
        proc.stdin.close()
        assert proc.wait(timeout=WAIT) == 0


def test_rust_std_conforms(rust_std: DriverFactory) -> None:
    """The suite, small: every capacity kind, sequential and concurrent."""
    verdicts = conformance.check(rust_std, capacities=(None, 0, 2), max_examples=15)
    failed = [v for v in verdicts if v.failed]
    assert not failed, conformance.render_failures(verdicts)
    assert {v.status for v in verdicts} == {conformance.Status.PASSED}


# -- loading targets ---------------------------------------------------------------------------


def test_driver_target_runs_any_command_line() -> None:
    name, factory = load_driver_target(f"driver:{sys.executable} {FAKE} good")
    assert name.startswith("driver:") and name.endswith("good")
    assert factory.offers.library == "impls.condition_based"
    assert factory.offers.deviations[0].rule is Rule.IN_FLIGHT


@pytest.mark.parametrize(("target", "message"), [
    ("driver:", "names no driver"),
    ("driver:/nonexistent/mpsc-driver", "'/nonexistent/mpsc-driver' not found"),
    ("driver:'unterminated", "cannot split"),
])
def test_driver_target_errors_say_what_to_do(target: str, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        load_driver_target(target)


def test_bundled_driver_not_built_names_its_build_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import conformance._driver as driver
    from conformance._target import TargetMissing

    monkeypatch.setattr(driver, "DRIVERS_DIR", tmp_path)
    monkeypatch.setattr(driver.shutil, "which", lambda tool: "/usr/bin/" + tool)
    with pytest.raises(TargetError, match=r"driver:go is not built; run `drivers/build go`"):
        load_driver_target("driver:go")
    monkeypatch.setattr(driver.shutil, "which", lambda tool: None)
    with pytest.raises(TargetMissing, match="skipped driver:go: go not found"):
        load_driver_target("driver:go")


# -- the proxy against the Python fake driver ----------------------------------------------------


def test_proxy_conforms_through_a_correct_python_driver() -> None:
    """The proxy adds nothing and loses nothing: a correct channel behind it still conforms."""
    factory = driver_factory(fake("good"))
    verdicts = conformance.check(factory, capacities=(0, 1), max_examples=4)
    assert not any(v.failed for v in verdicts), conformance.render_failures(verdicts)


@pytest.mark.parametrize(("mode", "message"), [
    ("garbage-hello", "its first line is not a mpsc-driver/1 hello: 'hello there'"),
    ("wrong-protocol", "mpsc-driver/0"),
    ("bad-offers", "unknown feature 'teleport'"),
    ("exit-early", r"exited with status 2; its last stderr lines:\n    fake: cannot start, on purpose"),
])
def test_a_driver_that_cannot_start_properly_is_a_clear_error(mode: str, message: str) -> None:
    with pytest.raises(DriverError, match=message):
        driver_factory(fake(mode))


def test_a_driver_without_a_hello_is_an_error_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    import conformance._driver as driver

    monkeypatch.setattr(driver, "HELLO_TIMEOUT", 0.5)
    with pytest.raises(DriverError, match=r"no hello within 0\.5 s"):
        driver_factory(fake("no-hello"))


def test_command_not_found_says_which() -> None:
    with pytest.raises(DriverError, match="'no-such-driver-program' not found"):
        driver_factory(["no-such-driver-program"])


def _factory_with_hello_of_good(mode: str) -> DriverFactory:
    """A factory whose channels run ``mode``, which misbehaves only after its hello."""
    good = driver_factory(fake("good"))
    return DriverFactory(fake(mode), f"fake-{mode}", good.hello, good.offers)


def test_a_crash_mid_call_wakes_every_caller_with_status_and_stderr() -> None:
    tx, rx = _factory_with_hello_of_good("crash-on-send")(None)
    blocked, out = in_thread(rx.recv)
    blocked.join(0.2)
    assert blocked.is_alive()
    with pytest.raises(DriverError, match=r"(?s)exited with status 3.*fake: crashing on purpose"):
        tx.send(1)
    blocked.join(WAIT)
    assert len(out) == 1 and isinstance(out[0], DriverError), out
    with pytest.raises(DriverError, match="exited with status 3"):
        rx.try_recv()  # and every later call


def test_an_error_reply_raises_driver_error_with_its_message() -> None:
    tx, _ = _factory_with_hello_of_good("error")(None)
    with pytest.raises(DriverError, match="fake: refused on purpose"):
        tx.send(1)


def test_an_impossible_outcome_is_a_driver_error() -> None:
    tx, _ = _factory_with_hello_of_good("wrong-outcome")(None)
    with pytest.raises(DriverError, match="answered 'send' with outcome 'got'"):
        tx.send(1)


def test_a_reply_nobody_waits_for_fails_the_driver() -> None:
    tx, _ = _factory_with_hello_of_good("unknown-id")(None)
    with pytest.raises(DriverError, match="answered id 999999, which no outstanding request has"):
        tx.send(1)


def test_a_token_not_in_flight_comes_back_as_a_phantom() -> None:
    _, rx = _factory_with_hello_of_good("phantom")(None)
    got = rx.try_recv()
    assert isinstance(got, Phantom) and got.token == 424242


@needs_proc
def test_a_killed_silent_driver_wakes_its_waiting_callers() -> None:
    tx, rx = _factory_with_hello_of_good("silent")(None)
    callers = [in_thread(rx.recv), in_thread(lambda: tx.send(1))]
    for thread, _ in callers:
        thread.join(0.2)
        assert thread.is_alive(), "a silent driver must leave its callers blocked, like a hung call"
    os.kill(pid_of(tx), signal.SIGKILL)
    for thread, out in callers:
        thread.join(WAIT)
        assert len(out) == 1 and isinstance(out[0], DriverError) and "signal SIGKILL" in str(out[0]), out


@needs_proc
def test_the_driver_dies_with_its_channel() -> None:
    tx, rx = driver_factory(fake("good"))(1)
    pid = pid_of(tx)
    assert alive(pid)
    del tx, rx
    gc.collect()
    eventually(lambda: not alive(pid), f"driver {pid} outlived its garbage-collected channel")


@needs_proc
def test_the_driver_dies_at_interpreter_exit() -> None:
    """A driver that ignores end of stdin, left open with a caller blocked in it: only the
    proxy's at-exit kill can end it."""
    script = (
        "import sys, threading, time\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from conformance._driver import DriverFactory, driver_factory\n"
        f"good = driver_factory([sys.executable, {str(FAKE)!r}, 'good'])\n"
        f"tx, rx = DriverFactory([sys.executable, {str(FAKE)!r}, 'ignore-eof'], 'x', good.hello, good.offers)(1)\n"
        "threading.Thread(target=rx.recv, daemon=True).start()\n"
        "time.sleep(0.2)\n"
        "print(tx._channel.process.pid, flush=True)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    pid = int(run.stdout.split()[-1])
    eventually(lambda: not alive(pid), f"driver {pid} outlived the interpreter that started it")
