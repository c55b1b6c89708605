"""The flash tests that need MicroPython's own file systems (VfsLfs2, VfsFat).

tests/firmware/powercut.py cuts power at every block write of a full default session
on LittleFS and FAT; tests/firmware/smallfs.py checks the space rules on a small
LittleFS. Both run on the MicroPython unix port only (CPython has no VfsLfs2).
"""
import re
import subprocess
from pathlib import Path

import pytest

from host_tools import firmware

HERE = Path(__file__).resolve().parent / "firmware"


def _tests_of(module):
    """Each test function of a firmware module, found in its source (no import: these
    modules need MicroPython's file systems), so the workers of make test share them."""
    text = (HERE / (module + ".py")).read_text()
    return [module + ":" + m.group(1) for m in re.finditer(r"^def (test_\w+)\(", text, re.M)]


@pytest.mark.parametrize("test", _tests_of("smallfs") + _tests_of("powercut"))
def test_flash_module_passes_on_micropython(test):
    env = firmware.micropython_env([HERE])
    proc = subprocess.run([firmware.micropython_exe(), "-X", "heapsize=64M", str(HERE / "mp_runner.py"), test],
                          env=env, capture_output=True, text=True, timeout=900, cwd=HERE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "1 passed, 0 failed", proc.stdout
