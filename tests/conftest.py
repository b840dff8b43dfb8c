import pathlib
import sys

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIXTURES))  # `broken_channels` importable, as the CLI tests' PYTHONPATH does

pytest_plugins = ["pytester"]
