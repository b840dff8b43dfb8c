"""A blocking ``recv`` checks for a message in one critical section and waits in another:
a message sent (and its ``notify`` delivered to nobody) between the two is a lost wake-up,
and the receiver sleeps until the next send or close, or forever.

Invisible to one thread (a background recv is already waiting when the main thread sends).
Caught by liveness in the concurrent suite; the rule it breaks is 1/2 (a receive completes
once a message is there).
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Receiver
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Capacities, Rule

EXPECT = Expect(capacities=(None, 2), checks=frozenset({"liveness"}), concurrent_only=True,
                breaks=frozenset({Rule.UNBOUNDED, Rule.BOUNDED}))


class _Core(condition_based._Core):
    def recv(self, handle: Receiver, block: bool, timeout: float | None) -> object:
        if block and timeout is None:
            with self._lock:
                ready = bool(self._buffer) or not self._senders or handle.closed
            if not ready:
                # BUG: a send landing right here notifies nobody, and the wait below misses it
                with self._lock:
                    self._not_empty.wait()
        return super().recv(handle, block, timeout)


channel = factory(_Core, Capacities(rendezvous=False))  # a rendezvous recv parks differently
