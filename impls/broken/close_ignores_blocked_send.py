"""Closing a sender handle does not wake a ``send`` blocked through that same handle: the
close forgets to notify the senders' condition, so the blocked call sleeps on (until some
unrelated event wakes it) instead of failing with HandleClosed.

Breaks rule 12 (the project's choice: closing a handle wakes operations blocked through it
with HandleClosed); seen by one thread plus one background call.
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Sender
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Rule

EXPECT = Expect(capacities=(1, 0), rules=frozenset({Rule.IN_FLIGHT}))


class _Core(condition_based._Core):
    def close_sender(self, handle: Sender) -> None:
        with self._lock:
            if handle.closed:
                return
            handle.closed = True
            self._senders -= 1
            self._offers = type(self._offers)(o for o in self._offers if o.handle is not handle)
            self._not_empty.notify_all()  # BUG: the receivers are told; the blocked senders are not


channel = factory(_Core)
