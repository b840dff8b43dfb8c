"""Each sending thread gets its own queue (to "reduce contention") and the receiver takes
from them in turn.  Each producer's messages stay in order, but a message sent after
another one *returned* can be received first.

Invisible to one thread (all its messages are in one queue).  Caught in the concurrent suite
by the real-time FIFO check (rule 10, across threads) or linearizability.
"""

from __future__ import annotations

import threading
from collections import deque

from impls import condition_based
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Capacities, Rule

EXPECT = Expect(capacities=(None,), checks=frozenset({"realtime_fifo", "linearizability"}), concurrent_only=True,
                breaks=frozenset({Rule.ORDER}))


class _PerThread:
    """The buffer: one deque per sending thread, taken from round-robin (called under the
    channel's lock, like the deque it replaces)."""

    def __init__(self) -> None:
        self._lanes: dict[int, deque[object]] = {}
        self._turn: deque[int] = deque()

    def append(self, value: object) -> None:
        me = threading.get_ident()
        if me not in self._lanes:
            self._lanes[me] = deque()
            self._turn.append(me)
        self._lanes[me].append(value)

    def popleft(self) -> object:
        while True:
            lane = self._turn[0]
            self._turn.rotate(-1)  # BUG: the next receive starts from another thread's queue
            if self._lanes[lane]:
                return self._lanes[lane].popleft()

    def __len__(self) -> int:
        return sum(len(q) for q in self._lanes.values())

    def clear(self) -> None:
        for q in self._lanes.values():
            q.clear()


class _Core(condition_based._Core):
    def __init__(self, capacity: int | None) -> None:
        super().__init__(capacity)
        self._buffer = _PerThread()  # type: ignore[assignment]


channel = factory(_Core, Capacities(bounded=False, rendezvous=False))
