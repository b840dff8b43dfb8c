"""Declared missing features are never called, and the rest is still fully checked."""

from __future__ import annotations

import pytest

import conformance
from spec import Capacities, Deviation, Feature, Offers, Rule, offers_of


@pytest.mark.parametrize("name", ["event_like", "go_like", "std_like"])
def test_the_suite_keeps_to_the_declaration(name: str) -> None:
    factory = getattr(__import__("limited_channels"), name)
    capacities = [c for c in (None, 0, 2) if c in factory.offers.capacities]
    verdicts = conformance.check(factory, capacities, max_examples=12)
    failed = [v for v in verdicts if v.failed]
    assert not failed, conformance.render_failures(failed)
    ran = [v for v in verdicts if v.status is conformance.Status.PASSED and v.check.startswith("concurrent")]
    assert ran, "the concurrent suite must still run"


def test_a_missing_feature_is_still_enforced_when_offered() -> None:
    """The guard itself works: calling a missing feature crashes (so the test above can fail)."""
    from limited_channels import event_like

    _, rx = event_like(0)
    with pytest.raises(AssertionError, match="declared missing"):
        rx.close()


def test_offers_are_validated() -> None:
    with pytest.raises(TypeError, match=r"spec\.Feature"):
        Offers(missing=frozenset({"send_timeout"}))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="runtime"):
        Offers(runtime="gevent")
    with pytest.raises(ValueError, match="known features"):
        Feature.parse("teleport")
    assert Feature.parse("close_while_blocked") is Feature.CLOSE_WHILE_BLOCKED

    def factory(capacity: int | None) -> None: ...

    factory.offers = "everything"  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match=r"must be a spec\.Offers"):
        offers_of(factory)


def test_capacities_alone_still_declare() -> None:
    def factory(capacity: int | None) -> None: ...

    factory.capacities = Capacities(rendezvous=False)  # type: ignore[attr-defined]
    assert offers_of(factory) == Offers(capacities=Capacities(rendezvous=False))
    d = Deviation(Rule.RECEIVER_CLOSE, "keeps buffered items", documented="the library's docs")
    assert Offers(deviations=(d,)).deviations[0].rule is Rule.RECEIVER_CLOSE
