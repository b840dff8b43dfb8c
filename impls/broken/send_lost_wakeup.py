"""A blocking ``send`` on a full channel checks for room in one critical section and waits in
another: a receive (and its ``notify``) landing between the two is a lost wake-up, and the
sender sleeps on although there is room, until some later event wakes it, or forever.

Invisible to one thread (a background send is already waiting when the main thread receives).
Caught by liveness in the concurrent suite: a blocked sender never woken.  The rule it breaks
is 2 (send blocks only while k messages are buffered).
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Sender
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Rule

EXPECT = Expect(capacities=(1, 2, 5), checks=frozenset({"liveness"}), concurrent_only=True,
                breaks=frozenset({Rule.BOUNDED}))


class _Core(condition_based._Core):
    def send(self, handle: Sender, value: object, block: bool, timeout: float | None) -> None:
        if block and timeout is None and self._capacity:
            with self._lock:
                full = len(self._buffer) >= self._capacity and self._receiver_open and not handle.closed
            if full:
                # BUG: a receive landing right here notifies nobody, and the wait below misses it
                with self._lock:
                    self._not_full.wait()
        return super().send(handle, value, block, timeout)


channel = factory(_Core)
