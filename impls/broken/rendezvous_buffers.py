"""Capacity 0 is treated as capacity 1, as in ``queue.Queue(0)``-style APIs: ``send``
returns as soon as the value is stored, before any receiver has taken it.

Breaks rule 3 (rendezvous: send returns only after a recv took that very value); seen by
one thread.
"""

from __future__ import annotations

from impls import condition_based
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Rule

EXPECT = Expect(capacities=(0,), rules=frozenset({Rule.RENDEZVOUS}))


class _Core(condition_based._Core):
    def __init__(self, capacity: int | None) -> None:
        super().__init__(1 if capacity == 0 else capacity)  # BUG: "no buffer" became "one slot"


channel = factory(_Core)
