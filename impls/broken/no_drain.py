"""Blocking ``recv`` reports ``Disconnected`` as soon as the last sender is gone, even with
messages still buffered: the check for "no senders" was written before the check for "a
message is there".  Everything sent before the last close is lost to ``recv`` and iteration.

Breaks rule 5 (the buffer drains first, then Disconnected); seen by one thread.
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Receiver
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Disconnected, Rule

EXPECT = Expect(capacities=(None, 2), rules=frozenset({Rule.SENDER_CLOSE, Rule.PRECEDENCE}))


class _Core(condition_based._Core):
    def recv(self, handle: Receiver, block: bool, timeout: float | None) -> object:
        if block:
            with self._lock:
                if not self._senders and not handle.closed:
                    raise Disconnected()  # BUG: before looking at the buffer
        return super().recv(handle, block, timeout)


channel = factory(_Core)
