"""A bounded channel buffers k + 1 messages: ``<=`` where ``<`` was meant.

Breaks rule 2 (at most k buffered; send blocks and try_send is Full when k are); seen by one
thread.
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Sender
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Rule

EXPECT = Expect(capacities=(1, 2), rules=frozenset({Rule.BOUNDED}))


class _Core(condition_based._Core):
    def send(self, handle: Sender, value: object, block: bool, timeout: float | None) -> None:
        if self._capacity:
            with self._lock:
                if not handle.closed and self._receiver_open and len(self._buffer) == self._capacity:
                    self._buffer.append(value)  # BUG: one past the capacity
                    self._not_empty.notify()
                    return None
        return super().send(handle, value, block, timeout)


channel = factory(_Core)
