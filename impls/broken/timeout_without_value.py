"""A timed ``send`` that gives up raises ``Timeout`` without the value it could not send, so
the caller cannot retry it or hand it elsewhere.

Breaks the contract's timeout rule (a send that times out carries its value); seen by one
thread.
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Sender
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Rule, Timeout

EXPECT = Expect(capacities=(1, 0), rules=frozenset({Rule.TIMEOUT, Rule.VALUES}))


class _Core(condition_based._Core):
    def send(self, handle: Sender, value: object, block: bool, timeout: float | None) -> None:
        try:
            return super().send(handle, value, block, timeout)
        except Timeout:
            raise Timeout() from None  # BUG: the value is lost


channel = factory(_Core)
