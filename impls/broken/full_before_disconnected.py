"""At capacity 0, ``try_send`` with no receiver waiting answers ``Full`` before checking
whether the receiver is gone, so after ``rx.close()`` a ``try_send`` says "try again later"
when nothing will ever receive: a caller retrying on Full spins forever.

Breaks rule 7 (precedence: Disconnected before Full); seen by one thread.
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Sender
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Full, Rule

# Sequentially it needs a receiver close and then a try_send with no receiver waiting; if the
# sequential half misses that, the concurrent half's linearizability check (which judges Full at
# a rendezvous) catches it.
EXPECT = Expect(capacities=(0,), rules=frozenset({Rule.PRECEDENCE, Rule.RECEIVER_CLOSE}),
                checks=frozenset({"linearizability"}))


class _Core(condition_based._Core):
    def send(self, handle: Sender, value: object, block: bool, timeout: float | None) -> None:
        if self._capacity == 0 and not block:
            with self._lock:
                if not self._claims and not handle.closed:
                    raise Full(value=value)  # BUG: the receiver may be gone: Disconnected first
        return super().send(handle, value, block, timeout)


channel = factory(_Core)
