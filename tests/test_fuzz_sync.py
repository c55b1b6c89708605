"""A short pass of the sync fuzzer (tests/fuzz/fuzz_sync.py) on CPython and the
MicroPython unix port, same seed: its oracles hold on both, and both answer alike.
(Where tests/fuzz/run.py exists, tests/test_fuzz.py runs it with the other fuzzers.)"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools import firmware

HERE = Path(__file__).resolve().parent
FUZZ = HERE / "fuzz"
PATHS = [HERE / "firmware", FUZZ]


def _digest(cmd, env):
    proc = subprocess.run(cmd + [str(FUZZ / "fuzz_sync.py"), "11", "60"], env=env, capture_output=True,
                          text=True, timeout=300, cwd=str(FUZZ))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.split()[-1]


@pytest.mark.skipif((FUZZ / "run.py").exists(), reason="tests/test_fuzz.py runs every fuzzer")
def test_sync_fuzzer_short_pass_on_both_runtimes():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(map(str, [firmware.FIRMWARE_DIR, *PATHS]))
    cpython = _digest([sys.executable], env)
    micropython = _digest([firmware.micropython_exe(), "-X", "heapsize=16M"], firmware.micropython_env(PATHS))
    assert cpython == micropython
