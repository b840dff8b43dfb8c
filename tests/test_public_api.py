"""Public names: every package re-exports exactly what it documents (a flat public module,
machinery in private ones), and the outcome exceptions have the names the contract fixes."""

from __future__ import annotations

import importlib
import inspect

import pytest

import spec

PACKAGES = ["spec", "conformance", "conformance.replay", "conformance.history", "impls.condition_based",
            "impls.queue_based", "impls.rendezvous"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_exist_and_are_unique(name: str) -> None:
    module = importlib.import_module(name)
    assert len(set(module.__all__)) == len(module.__all__)
    for attr in module.__all__:
        assert hasattr(module, attr), f"{name}.__all__ names missing {attr}"


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_definition_is_exported(name: str) -> None:
    module = importlib.import_module(name)
    defined_here = {
        n for n, obj in vars(module).items()
        if not n.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
        and getattr(obj, "__module__", None) == module.__name__
    }
    assert defined_here <= set(module.__all__), defined_here - set(module.__all__)


def test_outcome_exceptions_have_the_contract_names() -> None:
    for name in ("ChannelError", "Disconnected", "Empty", "Full", "Timeout", "HandleClosed"):
        assert issubclass(getattr(spec, name), spec.ChannelError)
    assert issubclass(spec.HandleClosed, ValueError)
    assert spec.Full("x", value=1).value == 1
    assert spec.Disconnected().value is spec.NO_VALUE


@pytest.mark.parametrize("name", ["impls.condition_based", "impls.queue_based", "impls.rendezvous"])
def test_implementations_use_the_shared_exceptions(name: str) -> None:
    module = importlib.import_module(name)
    tx, rx = module.channel(0 if name.endswith("rendezvous") else 1)
    tx.close()
    with pytest.raises(spec.HandleClosed):
        tx.try_send(1)
    with pytest.raises(spec.Disconnected):
        rx.try_recv()
