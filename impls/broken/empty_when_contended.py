"""``try_recv`` does not wait even for the lock: if another thread holds it (a sender in the
middle of its append), it answers ``Empty``, although a message may have been buffered all
along.  "try means never wait" taken one step too far.

Invisible to one thread (nobody else holds the lock).  Caught in the concurrent suite by the
Empty check (Empty while a message was certainly buffered) or, at capacity 0 where the
pattern checks leave Empty to the search, by linearizability.
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Receiver
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Empty, Rule

EXPECT = Expect(capacities=(None, 1), checks=frozenset({"empty", "linearizability"}), concurrent_only=True,
                breaks=frozenset({Rule.UNBOUNDED, Rule.BOUNDED}))


class _Core(condition_based._Core):
    def recv(self, handle: Receiver, block: bool, timeout: float | None) -> object:
        if not block:
            if not self._lock.acquire(blocking=False):
                raise Empty()  # BUG: a busy lock says nothing about the buffer
            self._lock.release()
        return super().recv(handle, block, timeout)


channel = factory(_Core)
