"""The flash tests that need MicroPython's own file systems (VfsLfs2, VfsFat).

tests/firmware/powercut.py cuts power at every block write of a full default session
on LittleFS and FAT; tests/firmware/smallfs.py checks the space rules on a small
LittleFS. Both run on the MicroPython unix port only (CPython has no VfsLfs2).
"""
import subprocess
from pathlib import Path

import pytest

from host_tools import firmware

HERE = Path(__file__).resolve().parent / "firmware"


@pytest.mark.parametrize("module", ["powercut", "smallfs"])
def test_flash_module_passes_on_micropython(module):
    env = firmware.micropython_env([HERE])
    proc = subprocess.run([firmware.micropython_exe(), "-X", "heapsize=64M", str(HERE / "mp_runner.py"), module],
                          env=env, capture_output=True, text=True, timeout=900, cwd=HERE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed, 0 failed" in proc.stdout
