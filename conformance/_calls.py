"""Calling an implementation: exceptions become outcome values here, and only here.

Every call into the implementation under test runs on a worker thread with a deadline,
because a conformance suite that can hang is useless exactly when it is needed most.  A
call that misses its deadline is reported as :class:`Hung`; its thread is a daemon and is
abandoned (Python cannot interrupt a thread blocked in a lock).
"""

from __future__ import annotations

import enum
import queue
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Union

from spec import ChannelError, Done, ErrorKind, Failed, Got

__all__ = [
    "Background",
    "Crashed",
    "Hung",
    "Observed",
    "Returned",
    "Shape",
    "Worker",
    "observe",
]


class Shape(enum.Enum):
    """What a successful call returns: nothing (send, close), a message, or a new handle."""

    UNIT = "unit"
    VALUE = "value"
    HANDLE = "handle"


@dataclass(frozen=True, eq=False)
class Returned:
    """A call that returned an object the model does not number (a new sender handle)."""

    obj: object


@dataclass(frozen=True, eq=False)
class Crashed:
    """The call raised something outside the channel's closed set of outcomes."""

    exc: BaseException
    traceback: str = field(repr=False)

    def describe(self) -> str:
        return f"raised {type(self.exc).__name__}: {self.exc}"


@dataclass(frozen=True, eq=False)
class Hung:
    """The call did not return within its deadline."""

    seconds: float


Observed = Union[Done, Got, Failed, Returned, Crashed, Hung]


def observe(call: Callable[[], object], shape: Shape) -> Observed:
    """Run ``call`` and express what happened as an outcome value."""
    try:
        result = call()
    except ChannelError as exc:
        return Failed(ErrorKind.of(exc), exc.value)
    except Exception as exc:  # anything else is a bug in the implementation, reported as such
        return Crashed(exc, traceback.format_exc())
    if shape is Shape.VALUE:
        return Got(result)  # real objects need not be hashable: Got is a record, not a key
    if shape is Shape.HANDLE:
        return Returned(result)
    return Done()  # a send/close that returns something is not held against it


class Worker:
    """A daemon thread that runs calls one at a time, so the caller can stop waiting."""

    def __init__(self, name: str) -> None:
        self._inbox: queue.SimpleQueue[tuple[Callable[[], object], Shape, _Slot]] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self.thread.start()
        self.stuck = False

    def _serve(self) -> None:
        while True:
            call, shape, slot = self._inbox.get()
            if slot.stop:
                return
            slot.result = observe(call, shape)
            slot.done.set()
            # Hold nothing between calls: the last call's closure and result would keep its
            # value alive and fail the no-reference check (rule 9) on the channel's behalf.
            del call, shape, slot

    def call(self, call: Callable[[], object], shape: Shape, deadline: float) -> Observed:
        """Run ``call``; :class:`Hung` if it has not returned after ``deadline`` seconds.
        After a hang the worker is abandoned and this method must not be called again."""
        if self.stuck:
            raise RuntimeError("this worker is stuck in an earlier call")
        slot = _Slot()
        self._inbox.put((call, shape, slot))
        if not slot.done.wait(deadline):
            self.stuck = True
            return Hung(deadline)
        assert slot.result is not None
        return slot.result

    def stop(self) -> None:
        if not self.stuck:
            slot = _Slot()
            slot.stop = True
            self._inbox.put((lambda: None, Shape.UNIT, slot))


class _Slot:
    __slots__ = ("done", "result", "stop")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Observed | None = None
        self.stop = False


class Background:
    """One blocking call started on its own thread, to be joined later."""

    def __init__(self, call: Callable[[], object], shape: Shape, name: str) -> None:
        self._result: Observed | None = None
        self._done = threading.Event()

        def run() -> None:
            self._result = observe(call, shape)
            self._done.set()

        self.thread = threading.Thread(target=run, name=name, daemon=True)
        self.thread.start()

    def finished(self) -> bool:
        return self._done.is_set()

    def join(self, deadline: float) -> Observed:
        if not self._done.wait(deadline):
            return Hung(deadline)
        assert self._result is not None
        return self._result
