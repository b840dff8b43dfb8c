"""A negative timeout is taken as "don't wait" instead of being refused: the handles clamp
it with ``max(0, timeout)``, hiding a caller's arithmetic bug (a deadline already past).

Breaks the contract's argument rule (a negative or NaN timeout is a ValueError, as in the
stdlib ``queue`` module); seen by one thread.
"""

from __future__ import annotations

import math

from impls import condition_based
from impls._handles import Receiver, Sender
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Rule

EXPECT = Expect(capacities=(None, 1), rules=frozenset({Rule.USAGE}))


def _clamp(timeout: float | None) -> float | None:
    if timeout is None or math.isnan(timeout):
        return 0.0 if timeout is not None else None
    return max(0.0, timeout)  # BUG: should raise ValueError for negative and NaN


class _Sender(Sender):
    __slots__ = ()

    def send(self, value: object, timeout: float | None = None) -> None:
        super().send(value, _clamp(timeout))


class _Receiver(Receiver):
    __slots__ = ()

    def recv(self, timeout: float | None = None) -> object:
        return super().recv(_clamp(timeout))


channel = factory(condition_based._Core, sender=_Sender, receiver=_Receiver)
