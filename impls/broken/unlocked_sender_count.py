"""``clone`` and ``close`` update the open-sender count outside the lock ("it is just an
integer"): two producers cloning or closing at once lose an update.  One too many and the
channel never disconnects (the consumer waits forever); one too few and it disconnects while a
sender is still open.

Invisible to one thread.  Caught in the concurrent suite by liveness, the Disconnected check,
or linearizability, depending on which update is lost; the rule it breaks is 5.
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Sender
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import HandleClosed, Rule

EXPECT = Expect(capacities=(None, 1), checks=frozenset({"liveness", "disconnected", "linearizability"}),
                concurrent_only=True,
                breaks=frozenset({Rule.SENDER_CLOSE}))


class _Core(condition_based._Core):
    def clone(self, handle: Sender) -> Sender:
        with self._lock:
            if handle.closed:
                raise HandleClosed("cannot clone a closed sender")
        count = self._senders  # BUG: read-modify-write of shared state without the lock
        self._senders = count + 1
        return Sender(self)

    def close_sender(self, handle: Sender) -> None:
        with self._lock:
            if handle.closed:
                return
            handle.closed = True
        count = self._senders  # BUG: as above
        self._senders = count - 1
        with self._lock:
            self._not_full.notify_all()
            self._not_empty.notify_all()


channel = factory(_Core)
