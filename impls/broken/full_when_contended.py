"""``try_send`` does not wait even for the lock: if another thread holds it, it answers
``Full``, on any channel, unbounded included.

Invisible to one thread.  Caught in the concurrent suite by the Full check (Full on an
unbounded channel, or while the buffer certainly had room) or linearizability.
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Sender
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Full, Rule

EXPECT = Expect(capacities=(None, 2), checks=frozenset({"full", "linearizability"}), concurrent_only=True,
                breaks=frozenset({Rule.UNBOUNDED, Rule.BOUNDED}))


class _Core(condition_based._Core):
    def send(self, handle: Sender, value: object, block: bool, timeout: float | None) -> None:
        if not block:
            if not self._lock.acquire(blocking=False):
                raise Full(value=value)  # BUG: a busy lock says nothing about room
            self._lock.release()
        return super().send(handle, value, block, timeout)


channel = factory(_Core)
