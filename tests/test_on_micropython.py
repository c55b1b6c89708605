"""The firmware tests (tests/firmware/test_*.py) again, on the real MicroPython unix port.

pytest collects those files directly on CPython; this module runs each of them under
``micropython`` and fails with its output when any test fails there.
"""
import subprocess
from pathlib import Path

import pytest

from host_tools import firmware

HERE = Path(__file__).resolve().parent / "firmware"
MODULES = sorted(p.stem for p in HERE.glob("test_*.py"))


@pytest.mark.parametrize("module", MODULES)
def test_module_passes_on_micropython(module):
    env = firmware.micropython_env([HERE])
    proc = subprocess.run([firmware.micropython_exe(), "-X", "heapsize=4M", str(HERE / "mp_runner.py"), module],
                          env=env, capture_output=True, text=True, timeout=600, cwd=HERE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed, 0 failed" in proc.stdout
