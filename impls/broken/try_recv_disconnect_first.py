"""``try_recv`` answers ``Disconnected`` when every sender is gone, without looking for a
buffered message first: a "fast path" for the non-blocking call that got the order of its
two checks wrong.  (Blocking ``recv`` is right, so iteration still works.)

Breaks rule 7 (precedence: a buffered message before Disconnected); seen by one thread.
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Receiver
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Disconnected, Rule

EXPECT = Expect(capacities=(None, 1), rules=frozenset({Rule.PRECEDENCE, Rule.SENDER_CLOSE}))


class _Core(condition_based._Core):
    def recv(self, handle: Receiver, block: bool, timeout: float | None) -> object:
        if not block:
            with self._lock:
                if not self._senders and not handle.closed:
                    raise Disconnected()  # BUG: the buffer is not drained first
        return super().recv(handle, block, timeout)


channel = factory(_Core)
