"""An unbounded ``send`` copies the buffer, appends to the copy outside the lock, and
publishes the copy ("copy-on-write, so readers never wait"): two concurrent sends each publish
their own copy and one message vanishes; a receive in between makes a taken message reappear.

Needs a second thread: the concurrent suite catches it by the integrity check (lost or duplicated
messages) or linearizability, and the sequential suite sometimes does, through its background
receive.  The rule it breaks is 9 (exactly once).
"""

from __future__ import annotations

from collections import deque

from impls import condition_based
from impls._handles import Sender
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Disconnected, HandleClosed, Rule

# Mostly a concurrent catch; the sequential half can see it too, when a background receive woken
# by one send pops a message while the next send holds its copy (the message comes back: rule 1's
# FIFO answer, or rule 9's exactly once, is what that report names).
EXPECT = Expect(capacities=(None,), rules=frozenset({Rule.UNBOUNDED, Rule.VALUES}),
                checks=frozenset({"integrity", "linearizability", "liveness"}), breaks=frozenset({Rule.VALUES}))


class _Core(condition_based._Core):
    def send(self, handle: Sender, value: object, block: bool, timeout: float | None) -> None:
        if self._capacity is not None:
            return super().send(handle, value, block, timeout)
        with self._lock:
            if handle.closed:
                raise HandleClosed(value=value)
            if not self._receiver_open:
                raise Disconnected(value=value)
            copy = list(self._buffer)
        copy.append(value)  # BUG: other sends and receives are not in this copy
        with self._lock:
            self._buffer = deque(copy)
            self._not_empty.notify()
        return None


channel = factory(_Core)
