"""The "unbounded" channel is really bounded by a default maximum (here 4, small so a short
test reaches it; real ones are often 1024 or 65536): past it, ``send`` blocks and ``try_send``
says Full.

Breaks rule 1 (unbounded: send never blocks while the receiver lives); seen by one thread.
"""

from __future__ import annotations

from impls import condition_based
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Rule

EXPECT = Expect(capacities=(None,), rules=frozenset({Rule.UNBOUNDED}))

DEFAULT_LIMIT = 4


class _Core(condition_based._Core):
    def __init__(self, capacity: int | None) -> None:
        super().__init__(DEFAULT_LIMIT if capacity is None else capacity)  # BUG: None is not "a lot"


channel = factory(_Core)
