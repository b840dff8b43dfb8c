"""Channels in other languages, judged through a driver: a child process speaking the driver
protocol (``drivers/PROTOCOL.md``, JSON lines on its stdin and stdout).

On this side a driver is just another channel factory.  :func:`driver_factory` returns one;
each ``factory(capacity)`` starts one driver process, which serves that one channel, and returns
:class:`DriverSender`/:class:`DriverReceiver` proxies with the sync contract.  A proxy call is
sent from whichever Python thread made it, naming that thread (``t1``, ``t2``, ... per channel),
and the driver runs it on a thread of its own for that name: Python threads blocked in calls are
driver threads blocked in the real library, so the sequential machine's background calls and
the concurrent scenarios apply unchanged.  One reader thread per process hands each reply to
the caller waiting for its id.

Messages are Python objects, but only integers cross the pipe: each sent object is lent a
token, and the token table gives back the very object (identity, rule 9).  An entry leaves the
table as soon as its object can no longer come back: when it is received, when a send fails
with it, and, once the receiver is closed and no receive is in progress, for everything but
sends still in progress (the library discarded the buffer).  So the suite's "no reference
kept" check sees the library's behaviour, not the proxy's bookkeeping.

A driver that cannot start, exits, crashes, writes something that is not the protocol, or
answers ``"error"`` raises :class:`DriverError` with what is known (the command, the exit
status, the last lines of its stderr, the offending line), waking every caller blocked on it:
never a hang.  A driver that merely stops answering blocks its callers exactly as a hung
library call would, and the suite's deadlines report it as such.  The process never outlives
its channel: it is killed when the proxies are garbage-collected and at interpreter exit, and
a driver exits by itself when its stdin closes.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import shlex
import shutil
import subprocess
import threading
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final, NoReturn

from spec import (
    Capacities,
    ChannelError,
    Deviation,
    Disconnected,
    Empty,
    Feature,
    Full,
    HandleClosed,
    Offers,
    Rule,
    Timeout,
    validate_capacity,
    validate_timeout,
)

__all__ = [
    "BUNDLED_DRIVERS",
    "PROTOCOL",
    "BundledDriver",
    "DriverError",
    "DriverFactory",
    "DriverReceiver",
    "DriverSender",
    "Phantom",
    "Unsupported",
    "bundled_command",
    "channel_for",
    "driver_factory",
    "load_driver_target",
]

PROTOCOL: Final = "mpsc-driver/1"

HELLO_TIMEOUT = 15.0
"""Seconds a starting driver has to write its hello line.  Generous (a driver starts in
milliseconds) because the machine may be loaded; a driver that never says hello is an error."""

STDERR_LINES = 12
"""How many of the driver's last stderr lines a failure report quotes."""

def _drivers_dir() -> Path:
    """The repository's ``drivers/``: ``$MPSC_DRIVERS_DIR``, else beside this package (a
    checkout or an editable install), else in the current directory."""
    if os.environ.get("MPSC_DRIVERS_DIR"):
        return Path(os.environ["MPSC_DRIVERS_DIR"])
    for candidate in (Path(__file__).resolve().parent.parent / "drivers", Path.cwd() / "drivers"):
        if (candidate / "PROTOCOL.md").exists():
            return candidate
    return Path(__file__).resolve().parent.parent / "drivers"


DRIVERS_DIR: Final = _drivers_dir()
DEBIAN_CRATES: Final = "/usr/share/cargo/registry"  # where Debian's librust-*-dev packages put crates


class DriverError(RuntimeError):
    """The driver failed, as a program: it could not start, exited or crashed, wrote something
    that is not the protocol, or answered ``"error"``.  Not a channel outcome: the suite
    reports it as a crash of the call, with this message."""


class Unsupported(NotImplementedError):
    """The driver does not offer this operation (its hello declares the feature missing, so
    the suite never asks for it)."""


@dataclass(frozen=True, eq=False)
class Phantom:
    """What a receive returns when the driver hands back a token that is not in flight: a
    message never sent, or already received or discarded.  A real object, so the suite
    reports it as the wrong message (a duplicate or phantom) under the rule it breaks, rather
    than as a crash."""

    token: int

    def __repr__(self) -> str:
        return f"<phantom driver message {self.token}: never sent, or already received or discarded>"


# -- the process -------------------------------------------------------------------------


class _Slot:
    """One outstanding request: its reply, or ``None`` if the process died first."""

    __slots__ = ("done", "reply")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.reply: dict[str, Any] | None = None


class _Process:
    """A running driver: pipes, the reader threads, outstanding requests by id.

    Deliberately holds no reference to the channel or its proxies, so that they can be
    garbage-collected (which kills this process) while the reader thread still runs.
    """

    def __init__(self, command: Sequence[str], label: str) -> None:
        self.command = list(command)
        self.label = label
        try:
            # Buffered pipes: readline on an unbuffered pipe reads one byte per system call.
            self.proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE)
        except FileNotFoundError:
            raise DriverError(f"cannot start driver {label}: {self.command[0]!r} not found"
                              f"{_build_hint(self.command[0])}") from None
        except OSError as exc:
            raise DriverError(f"cannot start driver {label} ({shlex.join(self.command)}): {exc}"
                              f"{_build_hint(self.command[0])}") from None
        self.pid = self.proc.pid
        self._lock = threading.Lock()  # guards pending, dead, ids
        self._write_lock = threading.Lock()  # one whole request line at a time
        self._pending: dict[int, _Slot] = {}
        self._ids = itertools.count(1)
        self.dead: str | None = None  # why the process is unusable, once it is
        self.hello: dict[str, Any] | None = None
        self._hello_ready = threading.Event()
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._stderr_done = threading.Event()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        threading.Thread(target=self._read_stderr, args=(self.proc.stderr,), daemon=True,
                         name=f"driver-stderr-{self.pid}").start()
        threading.Thread(target=self._read_stdout, args=(self.proc.stdout,), daemon=True,
                         name=f"driver-reader-{self.pid}").start()

    # reading

    def _read_stderr(self, stream: IO[bytes]) -> None:
        try:
            for raw in iter(stream.readline, b""):
                self.stderr_tail.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
        except (OSError, ValueError):
            pass
        finally:
            stream.close()
            self._stderr_done.set()

    def _read_stdout(self, stream: IO[bytes]) -> None:
        try:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if self.hello is None:
                    self._take_hello(line)
                elif line.strip():
                    self._take_reply(line)
                if self.dead is not None:
                    return
            self._exited()
        except (OSError, ValueError) as exc:
            self._fail(f"its stdout could not be read ({exc})")
        finally:
            stream.close()
            self._hello_ready.set()
            self._reap()

    def _take_hello(self, line: str) -> None:
        try:
            hello = json.loads(line)
        except ValueError:
            hello = None
        if not isinstance(hello, dict) or hello.get("protocol") != PROTOCOL:
            self._fail(f"its first line is not a {PROTOCOL} hello: {_quote(line)}")
        else:
            self.hello = hello
        self._hello_ready.set()

    def _take_reply(self, line: str) -> None:
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if not isinstance(reply, dict) or "outcome" not in reply:
            self._fail(f"it wrote a line that is not a reply: {_quote(line)}")
            return
        ident = reply.get("id")
        if ident is None:
            self._fail(f"it could not parse a request: {reply.get('message', _quote(line))}")
            return
        with self._lock:
            slot = self._pending.pop(ident, None) if isinstance(ident, int) else None
        if slot is None:
            self._fail(f"it answered id {ident!r}, which no outstanding request has: {_quote(line)}")
            return
        slot.reply = reply
        slot.done.set()

    def _exited(self) -> None:
        try:
            status = self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self._fail("it closed its stdout but did not exit")
            return
        self._stderr_done.wait(0.5)  # so the report quotes its last words
        self._fail(f"it exited with {_describe_status(status)}")

    def _reap(self) -> None:
        """Close our end of stdin and collect the exit status (no zombies)."""
        with self._write_lock:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _fail(self, reason: str) -> None:
        """Mark the process unusable, wake every waiting caller, and kill it."""
        with self._lock:
            if self.dead is None:
                self.dead = reason
            waiting = list(self._pending.values())
            self._pending.clear()
        for slot in waiting:
            slot.done.set()
        self.kill()

    # writing

    def wait_hello(self) -> dict[str, Any]:
        if not self._hello_ready.wait(HELLO_TIMEOUT):
            self._fail(f"it wrote no hello within {HELLO_TIMEOUT:g} s")
        if self.hello is None:
            self.raise_dead()
        return self.hello

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request and wait, as long as it takes, for its reply."""
        slot = _Slot()
        with self._lock:
            if self.dead is not None:
                self.raise_dead()
            ident = next(self._ids)
            self._pending[ident] = slot
        line = json.dumps({"id": ident, **request}, allow_nan=False) + "\n"
        try:
            with self._write_lock:
                assert self.proc.stdin is not None
                self.proc.stdin.write(line.encode())
                self.proc.stdin.flush()
        except (OSError, ValueError):
            # Its stdin is closed: it exited or is exiting, and the reader thread will report
            # how (waking this caller); a driver that closed stdin yet runs on is killed.
            try:
                self.proc.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                self._fail("it closed its stdin but kept running")
        slot.done.wait()
        if slot.reply is None:
            self.raise_dead()
        if slot.reply.get("outcome") == "error":
            raise DriverError(f"driver {self.label} answered error to {_quote(line.strip())}: "
                              f"{slot.reply.get('message', '(no message)')}")
        return slot.reply

    def raise_dead(self) -> NoReturn:
        lines = list(self.stderr_tail)
        tail = ("; its last stderr lines:\n    " + "\n    ".join(lines)) if lines else "; its stderr is empty"
        raise DriverError(f"driver {self.label} (pid {self.pid}, {shlex.join(self.command)}) failed: "
                          f"{self.dead}{tail}")

    def kill(self) -> None:
        """Kill the process.  Takes no lock: safe from a finalizer or the garbage collector,
        on any thread; the reader thread then sees end of file and reaps it."""
        if self.proc.returncode is None:
            try:
                self.proc.kill()
            except OSError:
                pass


def _quote(line: str, limit: int = 300) -> str:
    return repr(line if len(line) <= limit else line[:limit] + "...")


def _describe_status(status: int) -> str:
    if status < 0:
        import signal

        try:
            return f"signal {signal.Signals(-status).name}"
        except ValueError:
            return f"signal {-status}"
    return f"status {status}"


def _build_hint(program: str) -> str:
    for bundled in BUNDLED_DRIVERS.values():
        if any(Path(program) == p for p in bundled.executables()):
            return f"; build it with `{bundled.build_command}`"
    return "; check the command (a path to the driver's executable, or a program on PATH)"


# -- the hello -----------------------------------------------------------------------------


def _offers_from_hello(hello: dict[str, Any], label: str) -> Offers:
    """Read the hello's ``offers`` (and library, version) into a ``spec.Offers``; a malformed
    hello is a :class:`DriverError` quoting the part that is wrong."""

    def bad(what: str) -> NoReturn:
        raise DriverError(f"driver {label} sent a malformed hello ({what}): {_quote(json.dumps(hello), 600)}")

    offered = hello.get("offers", {})
    if not isinstance(offered, dict):
        bad('"offers" must be an object')
    caps = offered.get("capacities", {})
    if not isinstance(caps, dict) or not all(k in ("unbounded", "bounded", "rendezvous") and isinstance(v, bool)
                                              for k, v in caps.items()):
        bad('"capacities" must map unbounded/bounded/rendezvous to true/false')
    missing = offered.get("missing", [])
    if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
        bad('"missing" must be a list of feature names')
    try:
        features = frozenset(Feature.parse(m) for m in missing)
    except ValueError as exc:
        bad(str(exc))
    raw_deviations = offered.get("deviations", [])
    if not isinstance(raw_deviations, list):
        bad('"deviations" must be a list')
    deviations = []
    for d in raw_deviations:
        if not (isinstance(d, dict) and isinstance(d.get("text"), str) and isinstance(d.get("documented", ""), str)):
            bad('each deviation is {"rule": N, "text": "...", "documented": "..."}')
        deviations.append(Deviation(_rule(d.get("rule"), bad), d["text"], d.get("documented", "")))
    library, version = hello.get("library", ""), hello.get("version", "")
    if not isinstance(library, str) or not isinstance(version, str):
        bad('"library" and "version" must be strings')
    return Offers(capacities=Capacities(**caps), missing=features, library=library, version=version,
                  deviations=tuple(deviations))


def _rule(value: object, bad: Any) -> Rule:
    """A deviation's rule: its number (1-12) or its lower-case name (``"usage"``)."""
    if isinstance(value, str):
        try:
            return Rule[value.upper()]
        except KeyError:
            pass
    elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
        for rule in Rule:
            if rule.number == value:
                return rule
    known = ", ".join(sorted({str(r.number) for r in Rule if r.number} | {r.name.lower() for r in Rule}))
    bad(f"deviation rule {value!r} is not one of {known}")
    raise AssertionError("unreachable")


# -- the channel: tokens, threads, outcomes ---------------------------------------------------

# Outcomes each request may have (besides "error", handled by _Process.request).
_OUTCOMES: Final[dict[str, frozenset[str]]] = {
    "send": frozenset({"ok", "disconnected", "timeout", "closed", "unsupported"}),
    "try_send": frozenset({"ok", "full", "disconnected", "closed", "unsupported"}),
    "recv": frozenset({"got", "disconnected", "timeout", "closed", "unsupported"}),
    "try_recv": frozenset({"got", "empty", "disconnected", "closed", "unsupported"}),
    "clone": frozenset({"sender", "closed", "unsupported"}),
    "close": frozenset({"ok", "unsupported"}),
    "new": frozenset({"channel", "unsupported"}),
}
_SEND_FAILURES: Final[dict[str, type[ChannelError]]] = {
    "disconnected": Disconnected, "full": Full, "timeout": Timeout, "closed": HandleClosed}
_RECV_FAILURES: Final[dict[str, type[ChannelError]]] = {
    "disconnected": Disconnected, "empty": Empty, "timeout": Timeout, "closed": HandleClosed}


class _Channel:
    """The state the proxies of one channel share: the process, the token table, and the
    protocol thread name of each Python thread.  Garbage-collecting it kills the process."""

    def __init__(self, process: _Process) -> None:
        self.process = process
        self._lock = threading.Lock()
        self._tokens: dict[int, object] = {}  # token -> the object lent to the driver
        self._next_token = itertools.count(1)  # 1, 2, 3, ...: always below 2**53 (see PROTOCOL.md)
        self._sending: set[int] = set()  # tokens of sends not answered yet
        self._receiving = 0  # receives not answered yet
        self._receiver_closed = False
        self._local = threading.local()
        self._thread_numbers = itertools.count(1)
        weakref.finalize(self, process.kill)  # also runs at interpreter exit

    def thread(self) -> str:
        """This Python thread's protocol thread name (a new thread gets a new name, even if
        the OS reuses its identifier)."""
        name: str | None = getattr(self._local, "name", None)
        if name is None:
            with self._lock:
                name = f"t{next(self._thread_numbers)}"
            self._local.name = name
        return name

    def call(self, op: str, **fields: Any) -> dict[str, Any]:
        try:
            reply = self.process.request({"thread": self.thread(), "op": op, **fields})
        except DriverError:
            if self.process.dead is not None:
                with self._lock:  # nothing can come back from a dead process
                    self._tokens.clear()
            raise
        outcome = reply.get("outcome")
        if outcome not in _OUTCOMES[op]:
            raise DriverError(f"driver {self.process.label} answered {op!r} with outcome {outcome!r}; "
                              f"expected one of {', '.join(sorted(_OUTCOMES[op]))}: {_quote(json.dumps(reply))}")
        if outcome == "unsupported":
            raise Unsupported(f"driver {self.process.label} does not offer {op}: "
                              f"{reply.get('message', '(no message)')}")
        return reply

    def _purge(self) -> None:
        """Lock held.  Once the receiver is closed and no receive is in progress, only sends
        in progress can still give their object back: forget every other one."""
        if self._receiver_closed and self._receiving == 0:
            for token in [t for t in self._tokens if t not in self._sending]:
                del self._tokens[token]

    def send(self, op: str, handle: str, value: object, **fields: Any) -> None:
        with self._lock:
            token = next(self._next_token)
            self._tokens[token] = value
            self._sending.add(token)
        try:
            reply = self.call(op, handle=handle, value=token, **fields)
        except BaseException:
            with self._lock:  # an error reply or a dead driver: the value is not in the channel
                self._sending.discard(token)
                self._tokens.pop(token, None)
            raise
        with self._lock:
            self._sending.discard(token)
            outcome = reply["outcome"]
            if outcome == "ok":
                self._purge()  # delivered into a channel whose receiver is already gone
                return
            obj = self._tokens.pop(token, None)
        if reply.get("value") != token:
            raise DriverError(f"driver {self.process.label} failed a {op} of token {token} with {outcome!r} "
                              f"but gave back {reply.get('value', 'no value')!r}: {_quote(json.dumps(reply))}")
        raise _SEND_FAILURES[outcome](value=obj)

    def receive(self, op: str, handle: str, **fields: Any) -> object:
        with self._lock:
            self._receiving += 1
        try:
            reply = self.call(op, handle=handle, **fields)
        finally:
            with self._lock:
                self._receiving -= 1
        outcome = reply["outcome"]
        if outcome == "got":
            token = reply.get("value")
            if not isinstance(token, int) or isinstance(token, bool):
                raise DriverError(f"driver {self.process.label} answered {op!r} with 'got' but no integer "
                                  f"value: {_quote(json.dumps(reply))}")
            with self._lock:
                obj = self._tokens.pop(token, Phantom(token))
                self._purge()
            return obj
        with self._lock:
            self._purge()
        raise _RECV_FAILURES[outcome]()

    def close_receiver(self, handle: str) -> None:
        self.call("close", handle=handle)
        with self._lock:
            self._receiver_closed = True
            self._purge()


class DriverSender:
    """A sender handle living in the driver; every method is one request."""

    __slots__ = ("__weakref__", "_channel", "closed", "name")

    def __init__(self, channel: _Channel, name: str) -> None:
        self._channel = channel
        self.name = name
        self.closed = False

    def send(self, value: object, timeout: float | None = None) -> None:
        """Send, waiting while full (or for a receiver, at capacity 0) up to ``timeout``."""
        seconds = None if timeout is None else validate_timeout(timeout)
        self._channel.send("send", self.name, value, timeout=seconds)

    def try_send(self, value: object) -> None:
        """Send without waiting: ``Full`` if it would have to."""
        self._channel.send("try_send", self.name, value)

    def clone(self) -> DriverSender:
        """A new, independent sender handle on the same channel."""
        reply = self._channel.call("clone", handle=self.name)
        if reply["outcome"] == "closed":
            raise HandleClosed()
        name = reply.get("handle")
        if not isinstance(name, str):
            raise DriverError(f"driver {self._channel.process.label} answered clone without a handle "
                              f"name: {_quote(json.dumps(reply))}")
        return DriverSender(self._channel, name)

    def close(self) -> None:
        """Drop this handle; idempotent."""
        self._channel.call("close", handle=self.name)
        self.closed = True

    def __enter__(self) -> DriverSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{self._channel.process.label} Sender {self.name} {'closed' if self.closed else 'open'}>"


class DriverReceiver:
    """The receiver handle living in the driver; every method is one request."""

    __slots__ = ("__weakref__", "_channel", "closed", "name")

    def __init__(self, channel: _Channel, name: str) -> None:
        self._channel = channel
        self.name = name
        self.closed = False

    def recv(self, timeout: float | None = None) -> object:
        """Receive, waiting up to ``timeout`` for a message or disconnection."""
        seconds = None if timeout is None else validate_timeout(timeout)
        return self._channel.receive("recv", self.name, timeout=seconds)

    def try_recv(self) -> object:
        """Receive without waiting: ``Empty`` if nothing is there now."""
        return self._channel.receive("try_recv", self.name)

    def try_iter(self) -> Iterator[object]:
        """Yield what can be received without waiting, then stop."""
        while True:
            try:
                yield self._channel.receive("try_recv", self.name)
            except (Empty, Disconnected):
                return

    def __iter__(self) -> Iterator[object]:
        """Yield every message until the channel is disconnected and drained."""
        while True:
            try:
                yield self._channel.receive("recv", self.name, timeout=None)
            except Disconnected:
                return

    def close(self) -> None:
        """Drop the receiver; idempotent."""
        self._channel.close_receiver(self.name)
        self.closed = True

    def __enter__(self) -> DriverReceiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{self._channel.process.label} Receiver {'closed' if self.closed else 'open'}>"


# -- the factory ------------------------------------------------------------------------------


class DriverFactory:
    """``factory(capacity) -> (sender, receiver)``: one driver process per channel.

    Made by :func:`driver_factory`, which starts the driver once to read its hello:
    ``offers`` (a ``spec.Offers``) and ``capacities`` come from it, so the suite knows what to
    generate before any channel exists.
    """

    def __init__(self, command: Sequence[str], name: str, hello: dict[str, Any], offers: Offers) -> None:
        self.command = list(command)
        self.name = name
        self.hello = hello
        self.offers = offers
        self.capacities = offers.capacities

    def __call__(self, capacity: int | None) -> tuple[DriverSender, DriverReceiver]:
        validate_capacity(capacity, self.capacities)  # before starting anything
        process = _Process(self.command, self.name)
        channel = _Channel(process)  # from here on, dropping it kills the process
        process.wait_hello()
        try:
            reply = channel.call("new", capacity=capacity)
        except Unsupported as exc:
            raise DriverError(f"{exc}; but its hello offers capacity {capacity!r}") from None
        sender, receiver = reply.get("sender"), reply.get("receiver")
        if reply.get("outcome") != "channel" or not isinstance(sender, str) or not isinstance(receiver, str):
            raise DriverError(f"driver {self.name} answered 'new' (capacity {capacity!r}, which its hello "
                              f"offers) with {_quote(json.dumps(reply))}; expected outcome 'channel' with "
                              f"'sender' and 'receiver' handle names")
        return DriverSender(channel, sender), DriverReceiver(channel, receiver)

    def __repr__(self) -> str:
        return self.name


def driver_factory(command: Sequence[str], *, name: str | None = None) -> DriverFactory:
    """A channel factory backed by the driver ``command`` (an argv list).  Starts the driver
    once to read its hello; raises :class:`DriverError` if that fails, saying why."""
    if isinstance(command, str) or not command:
        raise TypeError("command must be a non-empty argv list, e.g. ['drivers/bin/mpsc-driver-go']")
    label = name or f"driver:{shlex.join(command)}"
    process = _Process(command, label)
    try:
        hello = process.wait_hello()
        offers = _offers_from_hello(hello, label)
    finally:
        process.kill()
    return DriverFactory(command, label, hello, offers)


# -- bundled drivers and the "driver:" target ---------------------------------------------------


@dataclass(frozen=True)
class BundledDriver:
    """A driver in ``drivers/``: where its build puts the executable, and what builds it."""

    name: str
    toolchain: str  # the program whose absence means "skip", not "fail"
    crates: tuple[tuple[str, str], ...] = ()  # (crate, Debian package) it builds against, offline

    def executables(self) -> tuple[Path, ...]:
        """Where the build may leave the executable: the driver's own ``target`` directory
        (cargo's ``target/release``, or ``target`` itself for Go and OCaml), or ``drivers/bin``."""
        exe = f"mpsc-driver-{self.name}"
        home = DRIVERS_DIR / self.name / "target"
        return (home / "release" / exe, home / exe, DRIVERS_DIR / "bin" / exe)

    @property
    def build_command(self) -> str:
        return f"drivers/build {self.name}"


BUNDLED_DRIVERS: Final[dict[str, BundledDriver]] = {
    d.name: d for d in (
        BundledDriver("rust-std", "cargo"),
        BundledDriver("crossbeam", "cargo", (("crossbeam-channel", "librust-crossbeam-channel-dev"),
                                             ("serde_json", "librust-serde-json-dev"))),
        BundledDriver("tokio", "cargo", (("tokio", "librust-tokio-dev"), ("serde_json", "librust-serde-json-dev"))),
        BundledDriver("go", "go"),
        BundledDriver("ocaml-event", "ocamlfind"),
    )
}


def bundled_command(name: str) -> list[str]:
    """The argv of a built bundled driver.  Raises ``TargetMissing`` (a clean skip) when its
    toolchain is absent, ``TargetError`` naming the build command when it is not built."""
    from conformance._target import TargetError, TargetMissing

    driver = BUNDLED_DRIVERS.get(name)
    if driver is None:
        raise TargetError(f"driver:{name} is not a bundled driver ({', '.join(BUNDLED_DRIVERS)}); "
                          f"for your own, give its command: driver:PATH [ARGS...]")
    for exe in driver.executables():
        if exe.is_file():
            return [str(exe)]
    if shutil.which(driver.toolchain) is None:
        raise TargetMissing(f"skipped driver:{name}: {driver.toolchain} not found, so it cannot be built")
    for crate, package in driver.crates:
        if not any(Path(DEBIAN_CRATES).glob(f"{crate}-[0-9]*")):
            raise TargetMissing(f"skipped driver:{name}: Debian's {package} (crate {crate}) is not installed, "
                                f"so it cannot be built offline")
    raise TargetError(f"driver:{name} is not built; run `{driver.build_command}` (from the repository root)")


def load_driver_target(target: str) -> tuple[str, DriverFactory]:
    """``driver:NAME`` (a bundled driver) or ``driver:COMMAND ARGS...`` (shell-split) ->
    ``(name, factory)``.  Raises ``TargetError`` (``TargetMissing`` to skip) with advice."""
    from conformance._target import TargetError

    rest = target.removeprefix("driver:").strip()
    if not rest:
        raise TargetError(f"{target!r} names no driver; use driver:NAME ({', '.join(BUNDLED_DRIVERS)}) "
                          f"or driver:COMMAND [ARGS...]")
    if rest in BUNDLED_DRIVERS:
        command, name = bundled_command(rest), f"driver:{rest}"
    else:
        try:
            command = shlex.split(rest)
        except ValueError as exc:
            raise TargetError(f"cannot split {rest!r} into a command line: {exc}") from None
        name = f"driver:{rest}"
    try:
        return name, driver_factory(command, name=name)
    except DriverError as exc:
        raise TargetError(str(exc)) from exc


def channel_for(target: str) -> DriverFactory:
    """The factory of a ``driver:...`` target, for replay scripts:
    ``from conformance._driver import channel_for; channel = channel_for("driver:rust-std")``."""
    return load_driver_target(target)[1]
