"""The native drivers (crossbeam, tokio, Go, OCaml Event) spoken to directly, without the
Python proxy: a few scripted transcripts per driver whose binary is built (``drivers/build``).

These pin the wire format each driver speaks (drivers/PROTOCOL.md) so that a driver bug shows
here, by name, rather than as a puzzling conformance failure; the conformance suite run through
the proxy judges the library itself.  A driver that is not built is skipped, naming it.
"""

from __future__ import annotations

import json
import pathlib
import queue
import subprocess
import threading
import time
from typing import Any

import pytest

from spec import Feature

DRIVERS = pathlib.Path(__file__).resolve().parent.parent / "drivers"

BINARIES = {
    "crossbeam": DRIVERS / "crossbeam" / "target" / "release" / "mpsc-driver-crossbeam",
    "tokio": DRIVERS / "tokio" / "target" / "release" / "mpsc-driver-tokio",
    "go": DRIVERS / "go" / "target" / "mpsc-driver-go",
    "ocaml-event": DRIVERS / "ocaml-event" / "target" / "mpsc-driver-ocaml-event",
}

REPLY_WAIT = 2.0
"""Seconds a reply that must come now may take (they take microseconds)."""


class Session:
    """One driver process: requests written as JSON lines, replies collected by id."""

    def __init__(self, binary: pathlib.Path) -> None:
        self.proc = subprocess.Popen([str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.replies: dict[object, dict[str, Any]] = {}
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        self.hello = self._next_line()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def _next_line(self) -> dict[str, Any]:
        line = self.lines.get(timeout=REPLY_WAIT)
        assert line is not None, "the driver closed its stdout"
        return line

    def send_line(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def request(self, thread: str, op: str, **fields: Any) -> int:
        """Sends a request without waiting for its reply; returns its id."""
        self.next_id += 1
        self.send_line(json.dumps({"id": self.next_id, "thread": thread, "op": op, **fields}))
        return self.next_id

    def reply(self, rid: object, wait: float = REPLY_WAIT) -> dict[str, Any]:
        deadline = time.monotonic() + wait
        while rid not in self.replies:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            assert line is not None, f"the driver closed its stdout before replying to {rid}"
            self.replies[line.get("id")] = line
        return self.replies.pop(rid)

    def pending(self, rid: int, wait: float = 0.1) -> bool:
        """True if request ``rid`` is still unanswered after ``wait`` seconds."""
        try:
            self.replies[rid] = self.reply(rid, wait)
        except queue.Empty:
            return True
        return False

    def call(self, thread: str, op: str, **fields: Any) -> dict[str, Any]:
        reply = self.reply(self.request(thread, op, **fields))
        assert reply["outcome"] != "error", reply
        return reply

    def outcome(self, thread: str, op: str, **fields: Any) -> tuple[str, Any]:
        reply = self.call(thread, op, **fields)
        return reply["outcome"], reply.get("value")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture(params=sorted(BINARIES))
def session(request: pytest.FixtureRequest) -> Any:
    binary = BINARIES[request.param]
    if not binary.exists():
        pytest.skip(f"driver {request.param} is not built (run drivers/build {request.param})")
    s = Session(binary)
    yield s
    s.stop()


def offered(s: Session, feature: Feature) -> bool:
    return feature.name.lower() not in s.hello["offers"]["missing"]


def test_hello_announces_the_protocol_and_what_is_offered(session: Session) -> None:
    hello = session.hello
    assert hello["protocol"] == "mpsc-driver/1"
    for key in ("name", "language", "library", "version"):
        assert isinstance(hello[key], str) and hello[key], key
    offers = hello["offers"]
    assert set(offers["capacities"]) == {"unbounded", "bounded", "rendezvous"}
    assert all(isinstance(v, bool) for v in offers["capacities"].values())
    known = {f.name.lower() for f in Feature}
    assert set(offers["missing"]) <= known
    for d in offers["deviations"]:
        assert isinstance(d["rule"], int) and d["text"] and isinstance(d["documented"], str)


def test_new_send_recv_and_try_ops(session: Session) -> None:
    s = session
    new = s.call("main", "new", capacity=2 if s.hello["offers"]["capacities"]["bounded"] else 0)
    assert (new["outcome"], new["sender"], new["receiver"]) == ("channel", "s0", "r0")
    if s.hello["offers"]["capacities"]["bounded"]:
        assert s.outcome("main", "send", handle="s0", value=11, timeout=None) == ("ok", None)
        assert s.outcome("main", "try_send", handle="s0", value=12) == ("ok", None)
        assert s.outcome("main", "try_send", handle="s0", value=13) == ("full", 13)
        assert s.outcome("main", "recv", handle="r0", timeout=None) == ("got", 11)
        assert s.outcome("main", "try_recv", handle="r0") == ("got", 12)
    else:  # rendezvous: the send waits for the receive on another thread
        sent = s.request("producer", "send", handle="s0", value=11, timeout=None)
        assert s.pending(sent)
        assert s.outcome("main", "recv", handle="r0", timeout=None) == ("got", 11)
        assert s.reply(sent)["outcome"] == "ok"
        assert s.outcome("main", "try_send", handle="s0", value=13) == ("full", 13)
    assert s.outcome("main", "try_recv", handle="r0") == ("empty", None)
    if offered(s, Feature.RECV_TIMEOUT):
        assert s.outcome("main", "recv", handle="r0", timeout=0.01) == ("timeout", None)


def test_clone_close_and_disconnect(session: Session) -> None:
    s = session
    s.call("main", "new", capacity=None if s.hello["offers"]["capacities"]["unbounded"] else 0)
    clone = s.call("main", "clone", handle="s0")
    assert (clone["outcome"], clone["handle"]) == ("sender", "s1")
    assert s.outcome("main", "close", handle="s0") == ("ok", None)
    assert s.outcome("main", "close", handle="s0") == ("ok", None)  # idempotent
    assert s.outcome("main", "send", handle="s0", value=1, timeout=None) == ("closed", 1)  # value given back
    assert s.outcome("main", "clone", handle="s0") == ("closed", None)
    if offered(s, Feature.DISCONNECT):
        waiting = s.request("consumer", "recv", handle="r0", timeout=None)
        assert s.pending(waiting)
        assert s.outcome("main", "close", handle="s1") == ("ok", None)
        assert s.reply(waiting)["outcome"] == "disconnected"
        assert s.outcome("main", "try_recv", handle="r0") == ("disconnected", None)
    if offered(s, Feature.CLOSE_RECEIVER):
        assert s.outcome("main", "close", handle="r0") == ("ok", None)
        assert s.outcome("main", "try_recv", handle="r0") == ("closed", None)


def test_malformed_requests_are_errors_not_crashes(session: Session) -> None:
    s = session
    s.send_line("not json")
    assert s.reply(None)["outcome"] == "error"
    rid = s.request("main", "send", handle="s0", value=1)  # before "new"
    assert s.reply(rid)["outcome"] == "error"
    s.call("main", "new", capacity=0 if s.hello["offers"]["capacities"]["rendezvous"] else 1)
    rid = s.request("main", "frobnicate", handle="s0")
    assert s.reply(rid)["outcome"] == "error"
    rid = s.request("main", "recv", handle="nobody")
    assert s.reply(rid)["outcome"] == "error"
    assert s.proc.poll() is None


@pytest.mark.parametrize("how", ["quit", "eof"])
def test_exits_promptly_with_a_thread_blocked(session: Session, how: str) -> None:
    s = session
    s.call("main", "new", capacity=0 if s.hello["offers"]["capacities"]["rendezvous"] else 1)
    assert s.pending(s.request("blocked", "recv", handle="r0", timeout=None))
    started = time.monotonic()
    if how == "quit":
        s.request("main", "quit")
    else:
        assert s.proc.stdin is not None
        s.proc.stdin.close()
    assert s.proc.wait(timeout=2) == 0
    assert time.monotonic() - started < 2
