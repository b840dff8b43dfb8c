"""Deliberately broken channels: the suite must reject every one, for the intended reason.

Each module is one plausible bug of the kind real channel code has, written as a small
change to a correct implementation (mostly :mod:`impls.condition_based`), with a module
docstring saying what is wrong and why it is plausible, a ``channel`` factory, and an
``EXPECT`` (:class:`~impls.broken._expect.Expect`) naming the rule or concurrent check that
must catch it.  ``python -m conformance mutation-score`` runs the suite against all of them.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from impls.broken._expect import CONCURRENT_CHECKS, Expect

__all__ = ["CONCURRENT_CHECKS", "Expect", "broken_modules"]


def broken_modules() -> list[ModuleType]:
    """Every broken implementation in this package, by name."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]
