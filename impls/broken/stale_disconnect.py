"""A fast path in ``recv``: peek at the buffer without the lock and, if it looked empty, take
the lock only to ask "any senders left?".  The answer is fresh, the peek is not: a message
sent, and the last sender closed, between the peek and the lock make the receiver report
Disconnected with that message still buffered, and lose it.

Invisible to one thread.  Caught in the concurrent suite by the Disconnected check (rule 5:
Disconnected only after every close and the buffer drained) or linearizability.
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Receiver
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Capacities, Disconnected, Rule

EXPECT = Expect(capacities=(None, 2), checks=frozenset({"disconnected", "linearizability", "integrity"}),
                concurrent_only=True,
                breaks=frozenset({Rule.SENDER_CLOSE}))


class _Core(condition_based._Core):
    def recv(self, handle: Receiver, block: bool, timeout: float | None) -> object:
        if not self._buffer:  # an unlocked peek
            with self._lock:
                if not self._senders and not handle.closed:
                    raise Disconnected()  # BUG: decided on the stale peek, not on the buffer now
        return super().recv(handle, block, timeout)


channel = factory(_Core, Capacities(rendezvous=False))
