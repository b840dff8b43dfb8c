"""At capacity 0 a parked sender waits for "a handoff happened" instead of "*my* value was
taken": with two senders parked, the first receive wakes both, and the second returns while
its value still sits in the channel, so its receive begins after its send completed.

Invisible to one thread (only one sender is ever parked).  Caught in the concurrent suite by
the synchronisation check (rule 11: for C = 0 each receive begins before its send completes)
or linearizability; the rule it breaks is 3.
"""

from __future__ import annotations

from impls import condition_based
from impls._handles import Receiver, Sender, wait_step
from impls.broken._base import factory
from impls.broken._expect import Expect
from spec import Disconnected, Full, HandleClosed, Rule

EXPECT = Expect(capacities=(0,), checks=frozenset({"synchronisation", "linearizability"}), concurrent_only=True,
                breaks=frozenset({Rule.RENDEZVOUS, Rule.SYNCHRONISATION}))


class _Core(condition_based._Core):
    def __init__(self, capacity: int | None) -> None:
        super().__init__(capacity)
        self._handoffs = 0

    def recv(self, handle: Receiver, block: bool, timeout: float | None) -> object:
        value = super().recv(handle, block, timeout)
        with self._lock:
            self._handoffs += 1
            self._not_full.notify_all()
        return value

    def _send_rendezvous(self, handle: Sender, value: object, block: bool, timeout: float | None) -> None:
        if handle.closed:
            raise HandleClosed(value=value)
        if not self._receiver_open:
            raise Disconnected(value=value)
        if self._claims:
            claim = self._claims.popleft()
            claim.value, claim.filled = value, True
            self._not_empty.notify_all()
            return
        if not block:
            raise Full(value=value)
        offer = condition_based._Offer(handle, value)
        self._offers.append(offer)
        seen = self._handoffs
        deadline = None
        try:
            while self._handoffs == seen:  # BUG: anyone's handoff, not this offer's
                if handle.closed:
                    raise HandleClosed(value=value)
                if not self._receiver_open:
                    raise Disconnected(value=value)
                deadline = wait_step(self._not_full, timeout, deadline, value)
        except BaseException:
            if not offer.taken and offer in self._offers:
                self._offers.remove(offer)
            raise


channel = factory(_Core)
