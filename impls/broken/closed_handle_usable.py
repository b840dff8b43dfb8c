"""A sender handle keeps working after ``close()``: ``send`` never checks the handle's own
flag, only the channel's.  Code that closed a handle "to be sure nothing more is sent" is
silently wrong.

Breaks the contract's usage rule (an operation on a closed handle raises HandleClosed); seen
by one thread.
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Sender
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Rule

EXPECT = Expect(capacities=(None, 1), rules=frozenset({Rule.USAGE}))


class _Core(condition_based._Core):
    def send(self, handle: Sender, value: object, block: bool, timeout: float | None) -> None:
        if handle.closed:
            handle = Sender(self)  # BUG: no check of the handle: it sends as if open
        return super().send(handle, value, block, timeout)


channel = factory(_Core)
