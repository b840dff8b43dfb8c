"""The command line and the pytest plugin: exit codes, verdicts, and usage errors that say
what to fix."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(FIXTURES)]))
    return subprocess.run([sys.executable, "-m", "conformance", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300)


def test_cli_conforming_target_exits_0() -> None:
    r = cli("check", "impls.rendezvous:channel", "--max-examples", "15")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "verdict: conforms" in r.stdout
    assert "capacity None    not offered" in r.stdout


def test_cli_broken_target_exits_1_with_replay() -> None:
    r = cli("check", "broken_channels:off_by_one", "--capacity", "1", "--max-examples", "300")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "DOES NOT CONFORM" in r.stdout
    assert "Broken: rule 2" in r.stdout
    assert "from broken_channels import off_by_one as channel" in r.stdout


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no_such_module_xyz:channel", "cannot import module 'no_such_module_xyz'"),
        ("broken_channels", "is not MODULE:FACTORY"),
        ("broken_channels:nope", "has no attribute 'nope'; callables it has:"),
        ("broken_channels:NOT_CALLABLE", "is a int, not a factory"),
        ("broken_channels:not_a_pair", "expected a pair (sender, receiver)"),
        ("broken_channels:lacks_try_recv", "lacks try_recv"),
        ("json:dumps", "expected a pair (sender, receiver)"),
    ],
)
def test_cli_usage_errors_exit_2_with_advice(target: str, message: str) -> None:
    r = cli("check", target)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "name at least one MODULE:FACTORY, or use --bundled"),
        (("impls.rendezvous:channel", "--capacity", "-1"), "is negative"),
        (("impls.rendezvous:channel", "--capacity", "big"), "is not a capacity"),
        (("impls.rendezvous:channel", "--profile", "slow"), "invalid choice"),
        (("impls.rendezvous:channel", "--max-examples", "0"), "--max-examples must be at least 1"),
    ],
)
def test_cli_bad_arguments_exit_2(args: tuple[str, ...], message: str) -> None:
    r = cli("check", *args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr


def test_cli_bad_profile_environment_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPSC_PROFILE", "forever")
    r = cli("check", "impls.rendezvous:channel")
    assert r.returncode == 2
    assert "MPSC_PROFILE='forever' is not a profile" in r.stderr


def test_plugin_runs_the_suite_in_another_project(pytester: pytest.Pytester) -> None:
    pytester.syspathinsert(FIXTURES)
    result = pytester.runpytest_subprocess(
        "--channel-impl", "impls.queue_based:channel", "--channel-capacity", "None",
        "--channel-capacity", "0", "--channel-max-examples", "15", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, skipped=2)  # arguments, both suites at None; 0 is not offered


def test_plugin_reports_the_broken_rule(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(f"import sys; sys.path.insert(0, {str(FIXTURES)!r})")
    result = pytester.runpytest_subprocess(
        "--channel-impl", "broken_channels:off_by_one", "--channel-capacity", "1",
        "--channel-profile", "quick", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)  # arguments are validated; both suites see the extra slot
    result.stdout.fnmatch_lines(["*Broken: rule 2*", "*# <- FAILS*"])
    result.stdout.fnmatch_lines(["*fails the concurrent suite at capacity 1*"])


def test_plugin_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--channel-impl", "nowhere_xyz:channel")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cannot import module 'nowhere_xyz'*"])


def test_plugin_is_inert_without_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok(): pass")
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_check_history_on_the_golden_files() -> None:
    legal = ROOT / "tests" / "histories" / "integrity-legal-receiver-close-discards.jsonl"
    illegal = sorted((ROOT / "tests" / "histories").glob("integrity-illegal-*.jsonl"))[0]
    assert legal.exists(), sorted(p.name for p in (ROOT / "tests" / "histories").iterdir())
    ok = cli("check-history", str(legal))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = cli("check-history", str(illegal))
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "integrity                    violation" in bad.stdout
    assert "!!" in bad.stdout  # the timeline marks the witnesses


def test_check_history_rejects_a_malformed_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text('{"format": "mpsc-history", "version": 1, "capacity": 1}\n{"id": 1, "op": "send"}\n')
    r = cli("check-history", str(path))
    assert r.returncode == 2
    assert "line 2: missing key 'thread'" in r.stderr
