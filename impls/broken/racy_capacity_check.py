"""``send`` looks for room in one critical section and appends in another, so two senders
can both see the last free slot and both take it: the buffer exceeds its capacity.

Invisible to one thread.  Caught in the concurrent suite by the synchronisation check (rule
11: with capacity C the k-th receive begins before the (k+C)-th send completes) or
linearizability; the rule it breaks is 2.
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Sender
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Rule

EXPECT = Expect(capacities=(1, 2), checks=frozenset({"synchronisation", "linearizability", "full"}),
                concurrent_only=True,
                breaks=frozenset({Rule.BOUNDED, Rule.SYNCHRONISATION}))


class _Core(condition_based._Core):
    def send(self, handle: Sender, value: object, block: bool, timeout: float | None) -> None:
        if self._capacity:
            with self._lock:
                room = (not handle.closed and self._receiver_open and len(self._buffer) < self._capacity)
            if room:
                # BUG: another sender can take the room right here
                with self._lock:
                    self._buffer.append(value)
                    self._not_empty.notify()
                    return None
        return super().send(handle, value, block, timeout)


channel = factory(_Core)
