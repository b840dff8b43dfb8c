"""``clone()`` counts a new sender but returns the *same* handle object, so closing "the
clone" closes the original too, and the count never returns to zero: the channel never
disconnects.

Breaks rule 4 (clone: a new, independent handle, closed separately); seen by one thread.
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Sender
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Rule

EXPECT = Expect(capacities=(None, 1), rules=frozenset({Rule.CLONE}))


class _Core(condition_based._Core):
    def clone(self, handle: Sender) -> Sender:
        super().clone(handle)
        return handle  # BUG: the count went up, but no new handle came out


channel = factory(_Core)
