"""Hypothesis settings profiles for the suite: a quick default and a thorough one.

The suite applies its profile explicitly to its own runs, so it neither depends on nor
changes the profile loaded globally.  That matters because Hypothesis loads its own ``ci``
profile whenever ``CI=true``; we decide deliberately instead: under ``CI`` the quick profile
is *derandomised* (a fixed seed per test, so a CI failure reproduces by re-running) and has
no example database (a fresh checkout has none to use); elsewhere it is random, with the
default database in ``.hypothesis/``, so every local run explores a little more and a failure
found once is replayed first next time.

``MPSC_PROFILE`` in the environment picks the default for both entry points.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

__all__ = ["PROFILES", "QUICK", "THOROUGH", "concurrent_settings", "default_profile", "profile_settings"]

QUICK = "quick"
THOROUGH = "thorough"
PROFILES = (QUICK, THOROUGH)

_IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_COMMON = settings(
    deadline=None,  # steps wait on threads by design; per-call deadlines guard hangs instead
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
    # No "explain" phase: it re-runs many variants of a failure to annotate Hypothesis's own
    # printout, which the suite replaces with its replay script or timeline (it cost 22 of
    # 30 s on a concurrent failure).
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
)

_QUICK = settings(_COMMON, max_examples=100, stateful_step_count=50, derandomize=_IN_CI)
if _IN_CI:
    _QUICK = settings(_QUICK, database=None)
_THOROUGH = settings(_COMMON, max_examples=1000, stateful_step_count=100)
_BY_NAME = {QUICK: _QUICK, THOROUGH: _THOROUGH}
# The concurrent suite: scenarios per capacity (each run several times on real threads).
_CONCURRENT_EXAMPLES = {QUICK: 200, THOROUGH: 1000}


def default_profile() -> str:
    name = os.environ.get("MPSC_PROFILE", QUICK)
    if name not in _BY_NAME:
        raise ValueError(f"MPSC_PROFILE={name!r} is not a profile; use one of {', '.join(PROFILES)}")
    return name


def concurrent_settings(name: str, **overrides: object) -> settings:
    """Settings for the concurrent suite under a profile: fewer, costlier examples."""
    if name not in _CONCURRENT_EXAMPLES:
        raise ValueError(f"unknown profile {name!r}; use one of {', '.join(PROFILES)}")
    return profile_settings(name, **{"max_examples": _CONCURRENT_EXAMPLES[name], **overrides})


def profile_settings(name: str, **overrides: object) -> settings:
    """The settings of a profile, optionally overridden (e.g. ``max_examples``)."""
    if name not in _BY_NAME:
        raise ValueError(f"unknown profile {name!r}; use one of {', '.join(PROFILES)}")
    return settings(_BY_NAME[name], **overrides)  # type: ignore[arg-type]  # validated by settings()
