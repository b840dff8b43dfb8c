"""When the lock is busy, ``send`` drops its message into a lock-free overflow lane (a deque
append is atomic in CPython) instead of waiting, and the receiver drains the main buffer
before the overflow.  A producer whose first send went to the overflow and second to the main
buffer has its messages received in the wrong order.

Invisible to one thread (the lock is never busy).  Caught in the concurrent suite by the
per-producer order check (rule 10: two sends by one thread are received in program order),
or by real-time FIFO or linearizability.
"""

from __future__ import annotations

from collections import deque

from impls import condition_based
from impls._handles import Sender
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Capacities, Rule

EXPECT = Expect(capacities=(None,), checks=frozenset({"producer_order", "realtime_fifo", "linearizability", "empty"}),
                concurrent_only=True,
                breaks=frozenset({Rule.ORDER}))


class _TwoLanes:
    """The buffer: the main lane (under the channel's lock) and the overflow lane."""

    def __init__(self) -> None:
        self.main: deque[object] = deque()
        self.overflow: deque[object] = deque()

    def append(self, value: object) -> None:
        self.main.append(value)

    def popleft(self) -> object:
        return self.main.popleft() if self.main else self.overflow.popleft()  # BUG: main lane first

    def __len__(self) -> int:
        return len(self.main) + len(self.overflow)

    def clear(self) -> None:
        self.main.clear()
        self.overflow.clear()


class _Core(condition_based._Core):
    def __init__(self, capacity: int | None) -> None:
        super().__init__(capacity)
        self._lanes = _TwoLanes()
        self._buffer = self._lanes  # type: ignore[assignment]

    def send(self, handle: Sender, value: object, block: bool, timeout: float | None) -> None:
        if not self._lock.acquire(blocking=False):
            if not handle.closed and self._receiver_open:
                self._lanes.overflow.append(value)  # BUG: skips the queue, and the wake-up
                return None
        else:
            self._lock.release()
        return super().send(handle, value, block, timeout)


channel = factory(_Core, Capacities(bounded=False, rendezvous=False))
