"""A short pass of every fuzzer (tests/fuzz/) on CPython and the MicroPython unix port,
with fixed seeds; `make fuzz` runs them for minutes from fresh seeds."""
import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parent / "fuzz"))  # last: its main.py must not shadow firmware/main.py
import run as fuzzrun  # noqa: E402

# cases per batch, small enough for a few seconds in all
SHORT = {"plan": 400, "log": 40, "store": 12, "sync": 60}


@pytest.mark.parametrize("name", fuzzrun.fuzzers())
def test_short_fuzz_pass_on_both_runtimes(name):
    answers = {}
    for runtime in ("cpython", "micropython"):
        ok, answer, _took = fuzzrun.batch(runtime, name, 1, SHORT.get(name, 10))
        assert ok, "%s on %s: %s" % (name, runtime, answer)
        answers[runtime] = answer
    if fuzzrun.differential(name):
        assert answers["cpython"] == answers["micropython"], fuzzrun.first_difference(name, 1, SHORT.get(name, 10))
