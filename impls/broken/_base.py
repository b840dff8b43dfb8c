"""The one piece every broken implementation shares: building a factory from a core."""

from __future__ import annotations

from collections.abc import Callable

from impls._handles import Core, Receiver, Sender
from spec import ALL_CAPACITIES, Capacities, validate_capacity

__all__ = ["factory"]


def factory(core: Callable[[int | None], Core], capacities: Capacities = ALL_CAPACITIES,
            sender: type[Sender] = Sender,
            receiver: type[Receiver] = Receiver) -> Callable[..., tuple[Sender, Receiver]]:
    """``channel(capacity)`` for a core class, validating the capacity as every channel must."""

    def channel(capacity: int | None = None) -> tuple[Sender, Receiver]:
        shared = core(validate_capacity(capacity, capacities))
        return sender(shared), receiver(shared)

    channel.capacities = capacities  # type: ignore[attr-defined]
    return channel
