import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("args", [[], ["impls.queue_based:channel", "--capacity", "1"],
                                  ["impls.rendezvous:channel", "--capacity", "0"]])
def test_example_collects_every_message_until_disconnection(args: list[str]) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "producers.py"), *args],
                         capture_output=True, text=True, cwd=ROOT, timeout=60, check=True).stdout
    expected = [f"Recv: {p}-{i}" for p in "AB" for i in (1, 2, 3)] + ["Total: 6"]
    assert out.splitlines() == expected
