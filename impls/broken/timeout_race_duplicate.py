"""At capacity 0 the receiver picks a parked sender's offer in one critical section and
takes it in another.  If that sender's timed ``send`` gives up in between, the send raises
``Timeout`` *with its value* while the receiver returns the same value: the message is both
delivered and handed back as unsent (the caller will likely send it again: a duplicate).

Invisible to one thread.  Caught in the concurrent suite by the integrity check (a failed
send's message was received) or linearizability; the rule it breaks is 9 (exactly once).
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Receiver
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Rule

EXPECT = Expect(capacities=(0,), checks=frozenset({"integrity", "linearizability"}), concurrent_only=True,
                breaks=frozenset({Rule.VALUES}))


class _Core(condition_based._Core):
    def recv(self, handle: Receiver, block: bool, timeout: float | None) -> object:
        if self._capacity == 0:
            with self._lock:
                offer = self._offers[0] if self._offers and not handle.closed else None
                value = offer.value if offer is not None else None
            if offer is not None:
                # BUG: the offer's sender may time out right here and take its value back
                with self._lock:
                    if offer in self._offers:
                        self._offers.remove(offer)
                    offer.taken = True
                    self._not_full.notify_all()
                    return value
        return super().recv(handle, block, timeout)


channel = factory(_Core)
