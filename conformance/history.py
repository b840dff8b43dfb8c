"""Recorded histories of concurrent runs: the record, and its JSON-lines file format.

A history is what a concurrent run leaves behind: every operation with its thread, its
arguments, its outcome, and its invocation and response times from one monotonic clock.
The checkers judge a history without knowing who produced it, so a history written by
another process or another language is checked the same way
(``python -m conformance check-history FILE``).

File format (JSON lines, UTF-8)
-------------------------------
The first line is a header object::

    {"format": "mpsc-history", "version": 1, "capacity": 2}

``capacity`` is ``null`` (unbounded), ``0`` (rendezvous) or a positive int.  Optional
header keys: ``"target"`` (free text naming what ran) and ``"clock"`` (free text naming
the time unit; times only need to be comparable).

Every further line is one operation::

    {"id": 7, "thread": "p1", "op": "send", "handle": 1, "value": "p1-3",
     "invoke": 1043, "respond": 1077, "outcome": "ok"}

==========  =================================================================
key         meaning
==========  =================================================================
id          unique int
thread      the thread (any string) that made the call; calls by one thread
            must not overlap in time
op          one of ``send``, ``send_timeout``, ``try_send``, ``clone``,
            ``close_sender``, ``recv``, ``recv_timeout``, ``try_recv``,
            ``close_receiver`` (an iteration step is a ``recv``)
handle      the sender handle used (send/try_send/clone/close_sender ops);
            the first sender is ``0``, clones are numbered by ``result``
value       the message sent (send ops); a JSON string or int, unique per
            send in the history (so a receive names its send)
invoke      time the call began (number)
respond     time the call returned, or ``null`` if it never did
outcome     ``ok`` (returned normally), ``disconnected``, ``empty``,
            ``full``, ``timeout``, ``handle_closed``, or ``pending``
            (never returned; ``respond`` is ``null``)
result      for a receive with outcome ``ok``: the message received;
            for a clone with outcome ``ok``: the new handle's number
==========  =================================================================

Loading validates all of this and reports the line and key at fault.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Union

__all__ = [
    "FORMAT",
    "History",
    "HistoryError",
    "Kind",
    "Operation",
    "Status",
    "dump",
    "dumps",
    "load",
    "loads",
]

FORMAT = "mpsc-history"
VERSION = 1

Message = Union[str, int]


class Kind(enum.Enum):
    """What was called."""

    SEND = "send"
    SEND_TIMEOUT = "send_timeout"
    TRY_SEND = "try_send"
    CLONE = "clone"
    CLOSE_SENDER = "close_sender"
    RECV = "recv"
    RECV_TIMEOUT = "recv_timeout"
    TRY_RECV = "try_recv"
    CLOSE_RECEIVER = "close_receiver"

    @property
    def is_send(self) -> bool:
        return self in (Kind.SEND, Kind.SEND_TIMEOUT, Kind.TRY_SEND)

    @property
    def is_recv(self) -> bool:
        return self in (Kind.RECV, Kind.RECV_TIMEOUT, Kind.TRY_RECV)

    @property
    def uses_handle(self) -> bool:
        return self.is_send or self in (Kind.CLONE, Kind.CLOSE_SENDER)


class Status(enum.Enum):
    """How the call ended."""

    OK = "ok"
    DISCONNECTED = "disconnected"
    EMPTY = "empty"
    FULL = "full"
    TIMEOUT = "timeout"
    HANDLE_CLOSED = "handle_closed"
    PENDING = "pending"


@dataclass(frozen=True)
class Operation:
    """One call in a history.  ``respond is None`` exactly when ``status`` is PENDING."""

    id: int
    thread: str
    kind: Kind
    invoke: float
    respond: float | None
    status: Status
    handle: int | None = None
    value: Message | None = None
    result: Message | None = None

    @property
    def returned(self) -> bool:
        return self.respond is not None

    @property
    def end(self) -> float:
        """Response time, or +infinity for a call that never returned."""
        return float("inf") if self.respond is None else self.respond

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "thread": self.thread, "op": self.kind.value}
        if self.handle is not None:
            out["handle"] = self.handle
        if self.kind.is_send:
            out["value"] = self.value
        out.update(invoke=self.invoke, respond=self.respond, outcome=self.status.value)
        if self.result is not None:
            out["result"] = self.result
        return out


@dataclass(frozen=True)
class History:
    """A whole run: the channel's capacity and every operation, in no particular order."""

    capacity: int | None
    operations: tuple[Operation, ...]
    target: str = ""

    def by_thread(self) -> dict[str, list[Operation]]:
        """Each thread's operations in program order (by invocation time)."""
        out: dict[str, list[Operation]] = {}
        for op in sorted(self.operations, key=lambda o: (o.invoke, o.id)):
            out.setdefault(op.thread, []).append(op)
        return out


class HistoryError(ValueError):
    """A history file or record is malformed; the message names the line and the key."""


def loads(text: str) -> History:
    return _parse(text.splitlines())


def load(path: str | Path) -> History:
    try:
        with open(path, encoding="utf-8") as f:
            return _parse(f)
    except OSError as exc:
        raise HistoryError(f"cannot read history file {str(path)!r}: {exc.strerror}") from exc


def dumps(history: History) -> str:
    return "".join(_lines(history))


def dump(history: History, out: IO[str]) -> None:
    out.writelines(_lines(history))


def _lines(history: History) -> Iterator[str]:
    header: dict[str, Any] = {"format": FORMAT, "version": VERSION, "capacity": history.capacity}
    if history.target:
        header["target"] = history.target
    yield json.dumps(header) + "\n"
    for op in sorted(history.operations, key=lambda o: (o.invoke, o.id)):
        yield json.dumps(op.to_json()) + "\n"


def _parse(lines: Iterable[str]) -> History:
    numbered = ((n, line) for n, line in enumerate(lines, 1) if line.strip())
    try:
        n, first = next(numbered)
    except StopIteration:
        raise HistoryError("the history is empty: expected a header line first") from None
    header = _json(n, first)
    if header.get("format") != FORMAT:
        raise HistoryError(f'line {n}: the first line must be a header with "format": "{FORMAT}"')
    if header.get("version") != VERSION:
        raise HistoryError(f"line {n}: unsupported version {header.get('version')!r}; this reader reads {VERSION}")
    capacity = header.get("capacity", "missing")
    if not (capacity is None or (type(capacity) is int and capacity >= 0)):
        raise HistoryError(f"line {n}: header capacity must be null, 0 or a positive int, not {capacity!r}")
    ops = [_operation(n, _json(n, line)) for n, line in numbered]
    ids = [op.id for op in ops]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise HistoryError(f"operation id {dup} appears more than once")
    _check_threads(ops)
    return History(capacity, tuple(ops), str(header.get("target", "")))


def _json(n: int, line: str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise HistoryError(f"line {n}: not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise HistoryError(f"line {n}: expected a JSON object, got {type(obj).__name__}")
    return obj


def _operation(n: int, obj: dict[str, Any]) -> Operation:
    def need(key: str, types: tuple[type, ...], what: str) -> Any:
        if key not in obj:
            raise HistoryError(f"line {n}: missing key {key!r} ({what})")
        value = obj[key]
        if not isinstance(value, types) or isinstance(value, bool):
            raise HistoryError(f"line {n}: {key!r} must be {what}, not {value!r}")
        return value

    op_id = need("id", (int,), "an int")
    thread = need("thread", (str,), "a string")
    try:
        kind = Kind(obj.get("op"))
    except ValueError:
        raise HistoryError(
            f"line {n}: 'op' must be one of {', '.join(k.value for k in Kind)}, not {obj.get('op')!r}"
        ) from None
    try:
        status = Status(obj.get("outcome"))
    except ValueError:
        raise HistoryError(
            f"line {n}: 'outcome' must be one of {', '.join(s.value for s in Status)}, not {obj.get('outcome')!r}"
        ) from None
    invoke = need("invoke", (int, float), "a number")
    respond = obj.get("respond", "missing")
    if status is Status.PENDING:
        if respond is not None:
            raise HistoryError(f"line {n}: a pending operation has 'respond': null")
    else:
        respond = need("respond", (int, float), "a number (null only when pending)")
        if respond < invoke:
            raise HistoryError(f"line {n}: responds ({respond}) before it was invoked ({invoke})")
    handle = need("handle", (int,), "a sender handle number") if kind.uses_handle else None
    value = need("value", (str, int), "the message: a string or an int") if kind.is_send else None
    result = None
    if status is Status.OK and kind.is_recv:
        result = need("result", (str, int), "the message received: a string or an int")
    elif status is Status.OK and kind is Kind.CLONE:
        result = need("result", (int,), "the new handle's number")
    return Operation(op_id, thread, kind, invoke, respond, status, handle, value, result)


def _check_threads(ops: list[Operation]) -> None:
    last: dict[str, Operation] = {}
    for op in sorted(ops, key=lambda o: (o.invoke, o.id)):
        prev = last.get(op.thread)
        if prev is not None and prev.end > op.invoke:
            raise HistoryError(
                f"operations {prev.id} and {op.id} of thread {op.thread!r} overlap: "
                f"a thread makes one call at a time"
            )
        last[op.thread] = op
