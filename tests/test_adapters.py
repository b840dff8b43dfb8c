"""The adapters of real libraries (``impls/adapters``) and their findings (``docs/findings``).

* Every installed library's adapter gets the verdict established for it: it passes, or it fails
  for the rule its finding names.  A library that is not installed (or a Python too old for the
  API) is a skip naming it, never an error.
* Every finding's reproduction, written in the library's own API, still prints what the finding
  says it printed: if a library fixes the behaviour, this fails and the finding needs updating.

Small budgets: the point is the verdict, not a thorough search; ``python -m conformance check``
(or the matrix) runs each adapter with the full profile.  Failures are looked for without
shrinking.  Run in the ``libraries`` tox environment, which installs the libraries.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import pathlib
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import Phase

import conformance
from conformance import Status, load
from conformance._runner import run_concurrent_check, run_sequential
from conformance._target import Target, TargetMissing, make_target
from impls.adapters import ADAPTERS
from spec import Feature, LibraryMissing, Offers, Rule, offers_of

ROOT = pathlib.Path(__file__).resolve().parent.parent
FINDINGS = ROOT / "docs" / "findings"
PROFILE = conformance.QUICK
PASS_EXAMPLES = 15  # per capacity, for adapters expected to pass
FIND_EXAMPLES = 200  # an upper bound for adapters expected to fail: the run stops at the first failure
FIND_ONLY = {"phases": (Phase.explicit, Phase.reuse, Phase.generate)}


def _target(name: str) -> Target:
    try:
        return load(name)
    except TargetMissing as exc:
        pytest.skip(str(exc))


def _variant(name: str, missing: frozenset[Feature]) -> Target:
    """The adapter with more features declared missing: how one defect is isolated from another
    that the suite would otherwise report first (declaring adds nothing to what is called)."""
    target = _target(name)
    factory = target.factory

    def variant(capacity: int | None) -> Any:
        return factory(capacity)

    variant.offers = dataclasses.replace(target.declared, missing=target.declared.missing | missing)  # type: ignore[attr-defined]
    return make_target(name, variant, probe=False)


# -- adapters that pass -----------------------------------------------------------------------

CONFORMING = [
    "impls.adapters.trio_channel:channel",
    "impls.adapters.stdlib_queue:channel",
    "impls.adapters.stdlib_asyncio:channel",
    "impls.adapters.janus_queue:sync_channel",
    "impls.adapters.janus_queue:async_channel",
    "impls.adapters.culsans_queue:sync_channel",
    "impls.adapters.culsans_queue:async_channel",
    "impls.adapters.aiochannel_channel:channel",
    "impls.adapters.gevent_queue:queue_channel",
]
# gevent's Channel passes the sequential half; its concurrent failure (two nowait calls meeting,
# docs/findings/gevent-channel-nowait-pairs.md) needs hundreds of scenarios to show, so here only
# its reproduction runs (below).
SEQUENTIAL_ONLY = ["impls.adapters.gevent_queue:channel"]


@pytest.mark.parametrize("name", CONFORMING + SEQUENTIAL_ONLY)
def test_adapter_conforms_in_what_it_offers(name: str) -> None:
    target = _target(name)
    offered = [c for c in (None, 0, 1, 2) if target.offers(c)]
    for capacity in offered:
        verdict = run_sequential(target, capacity, profile=PROFILE, max_examples=PASS_EXAMPLES)
        assert verdict.status is Status.PASSED, verdict.report.render() if verdict.report else verdict
    if name in SEQUENTIAL_ONLY:
        return
    capacity = 1 if target.offers(1) else offered[0]
    verdict = run_concurrent_check(target, capacity, profile=PROFILE, max_examples=PASS_EXAMPLES)
    assert verdict.status is Status.PASSED, verdict.report.render() if verdict.report else verdict


# -- adapters that fail, for the rule of their finding -------------------------------------------

PYCHANASYNC = "impls.adapters.pychanasync_channel:channel"
NO_TIMEOUTS = frozenset({Feature.SEND_TIMEOUT, Feature.RECV_TIMEOUT})
NO_CLOSING = frozenset({Feature.DISCONNECT, Feature.CLOSE_RECEIVER})
# Unrestricted, the suite reports whichever pychanasync defect it meets first: any of the four.
PYCHANASYNC_RULES = {Rule.RECEIVER_CLOSE, Rule.SENDER_CLOSE, Rule.PRECEDENCE, Rule.BOUNDED, Rule.VALUES}


@pytest.mark.parametrize(
    ("name", "missing", "capacity", "rules", "finding"),
    [
        (PYCHANASYNC, NO_TIMEOUTS, 0, {Rule.RENDEZVOUS}, "pychanasync-bound-zero-deadlock"),
        (PYCHANASYNC, frozenset(), 1, PYCHANASYNC_RULES, "pychanasync-close-after-timeout"),
        ("impls.adapters.pychanasync_channel:unbuffered", frozenset(), 0, {Rule.RECEIVER_CLOSE, Rule.SENDER_CLOSE},
         "pychanasync-close-after-timeout"),
        (PYCHANASYNC, NO_TIMEOUTS, 2, {Rule.PRECEDENCE, Rule.SENDER_CLOSE, Rule.VALUES},
         "pychanasync-close-loses-buffer"),
        (PYCHANASYNC, NO_CLOSING, 2, {Rule.BOUNDED, Rule.VALUES}, "pychanasync-timeout-swallows-item"),
        ("impls.adapters.anyio_stream:asyncio_channel", frozenset(), 2, {Rule.VALUES},
         "anyio-receive-close-keeps-buffer"),
        ("impls.adapters.anyio_stream:trio_channel", frozenset(), 2, {Rule.VALUES}, "anyio-receive-close-keeps-buffer"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_adapter_fails_for_the_rule_of_its_finding(name: str, missing: frozenset[Feature], capacity: int,
                                                    rules: set[Rule], finding: str) -> None:
    target = _variant(name, missing) if missing else _target(name)
    verdict = run_sequential(target, capacity, profile=PROFILE, max_examples=FIND_EXAMPLES, **FIND_ONLY)
    assert verdict.status is Status.FAILED, f"{name} at capacity {capacity} no longer fails: see {finding}.md"
    assert verdict.report is not None
    assert verdict.report.rule in rules, verdict.report.render()
    assert (FINDINGS / f"{finding}.md").is_file()


# -- declarations -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ADAPTERS)
def test_adapter_declares_library_version_and_runtime(name: str) -> None:
    module_name, _, factory_name = name.partition(":")
    factory = getattr(importlib.import_module(module_name), factory_name)
    offers = offers_of(factory)
    assert isinstance(factory.offers, Offers) and offers.library and offers.runtime in ("threads", "asyncio", "trio")
    for deviation in offers.deviations:
        for path in re.findall(r"docs/findings/[\w.-]+\.md", deviation.text):
            assert (ROOT / path).is_file(), f"{name} cites {path}, which does not exist"
    try:
        _target(name)
    except pytest.skip.Exception:
        assert offers.version == "" or offers.library.endswith("Queue"), "a missing library has no version"
        raise
    assert offers.version, f"{name} is installed but declares no version"


def _block_imports(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError


@pytest.mark.parametrize("name", ADAPTERS)
def test_a_missing_library_is_a_skip_naming_it(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    module_name, _, factory_name = name.partition(":")
    factory: Callable[..., Any] = getattr(importlib.import_module(module_name), factory_name)
    library = offers_of(factory).library
    if library.endswith("Queue"):  # the standard library: missing only on Python < 3.13
        if sys.version_info >= (3, 13):
            pytest.skip(f"{library} is present on this Python")
    else:
        _block_imports(monkeypatch, library, "trio", f"{library}.errors", f"{library}.queue")
    capacity = next(c for c in (None, 1, 0) if c in offers_of(factory).capacities)
    with pytest.raises(LibraryMissing) as caught:
        factory(capacity)
    assert caught.value.library.split(".")[0] in (library.split(".")[0], "trio", "anyio[trio]")
    with pytest.raises(TargetMissing, match="skipped"):
        load(name)


# -- findings -----------------------------------------------------------------------------------

FINDING_FILES = sorted(p for p in FINDINGS.glob("*.md") if p.name != "README.md")
NEEDS = {"pychanasync": ("pychanasync",), "anyio": ("anyio", "trio"), "gevent": ("gevent",)}


def _section(text: str, heading: str, language: str) -> str:
    match = re.search(rf"^## {heading}\n\n```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert match, f"no ```{language} block under '## {heading}'"
    return match.group(1)


@pytest.mark.parametrize("path", FINDING_FILES, ids=lambda p: p.stem)
def test_finding_reproduction_shows_what_it_claims(path: pathlib.Path, tmp_path: pathlib.Path) -> None:
    for module in NEEDS[path.stem.split("-")[0]]:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    text = path.read_text()
    script = tmp_path / "reproduce.py"
    script.write_text(_section(text, "Reproduction", "python"))
    # Standalone: run outside the checkout, so that nothing of this project can be imported.
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == _section(text, "Output", "text")
    for part in ("## What the library does", "## What the model expects", "## Does the library document it?"):
        assert part in text


def test_every_finding_is_listed_in_the_index() -> None:
    index = (FINDINGS / "README.md").read_text()
    for path in FINDING_FILES:
        assert f"({path.name})" in index, f"{path.name} is not in docs/findings/README.md"
