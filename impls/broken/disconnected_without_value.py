"""After the receiver is closed, ``send`` raises ``Disconnected`` but without the value: the
caller cannot recover what it tried to send, so the message is silently lost.

Breaks rule 6 (send after the receiver is gone raises Disconnected carrying the value); seen
by one thread.
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Sender
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Disconnected, Rule

EXPECT = Expect(capacities=(None, 1), rules=frozenset({Rule.RECEIVER_CLOSE, Rule.VALUES}))


class _Core(condition_based._Core):
    def send(self, handle: Sender, value: object, block: bool, timeout: float | None) -> None:
        try:
            return super().send(handle, value, block, timeout)
        except Disconnected:
            raise Disconnected() from None  # BUG: the value is dropped on the floor


channel = factory(_Core)
