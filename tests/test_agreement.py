"""The pattern checkers and the linearizability search agree on small histories.

Pattern checks are fast but incomplete; the search is complete but exponential.  What must
hold: a pattern check never reports a violation in a history the search finds linearizable
(the patterns raise no false alarms), and every history the search accepts passes every
pattern check.  The converse is not required: some illegal histories only the search sees
(on rendezvous channels, or when equal timestamps leave an order open).
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_checks import _mutations, _stretch, model_histories

from conformance._checks import check_patterns
from conformance._evidence import Verdict3
from conformance._linearizability import check_linearizable
from conformance.history import History


def _agree(history: History) -> None:
    search = check_linearizable(history, budget=200_000)
    patterns = check_patterns(history)
    violations = [f for f in patterns if f.verdict is Verdict3.VIOLATION]
    if search.verdict is Verdict3.OK:
        assert not violations, f"false alarm by {[f.check for f in violations]}: {violations[0].message}"
    if violations:
        assert search.verdict is not Verdict3.OK


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(model_histories(max_steps=16), st.randoms(use_true_random=False))
def test_checkers_agree_on_legal_histories(history: History, rnd: random.Random) -> None:
    _agree(history)
    _agree(_stretch(history, rnd))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(model_histories(capacities=(None, 0, 1, 2), parking=False, max_steps=14), st.data())
def test_checkers_agree_on_corrupted_histories(history: History, data: st.DataObject) -> None:
    mutations = _mutations(history)
    if mutations:
        _, corrupted = data.draw(st.sampled_from(mutations))
        _agree(corrupted)
