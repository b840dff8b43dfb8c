"""The receiver remembers the last message it returned (a "peek" cache), so a delivered
message stays alive as long as the channel does: a memory leak, and a surprise for code that
relies on an object being freed (weak references, ``__del__``, file handles).

Breaks rule 9 (the channel keeps no reference to a message once delivered); seen by one
thread.
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Receiver
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Rule

EXPECT = Expect(capacities=(None, 1, 0), rules=frozenset({Rule.VALUES}))


class _Core(condition_based._Core):
    def recv(self, handle: Receiver, block: bool, timeout: float | None) -> object:
        value = super().recv(handle, block, timeout)
        self._last = value  # BUG: a reference the channel has no business keeping
        return value


channel = factory(_Core)
