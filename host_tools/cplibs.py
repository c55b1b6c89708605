"""The CircuitPython libraries the firmware runs on those boards, from PyPI.

They are pure Python written for CircuitPython and depend on Adafruit-Blinka when
pip-installed normally, which would drop CPython stand-ins for ``board``, ``busio``
and ``_bleio`` into the project's venv. So they are installed without dependencies
into a folder of their own, ``.cplib/`` (``make stubs``), from where ``sprintwatch
flash`` copies them to a board's ``lib/`` and the tests import them.
"""
import __future__
import importlib.machinery
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cplib_dir():
    """``.cplib/`` in a checkout; an installed package (no pyproject.toml beside it) keeps
    them in the user cache folder instead of writing into site-packages."""
    if (ROOT / "pyproject.toml").exists():
        return ROOT / ".cplib"
    from host_tools.paths import cache_dir
    return cache_dir() / "cplib"


CPLIB_DIR = _cplib_dir()
REQUIREMENTS = (
    "adafruit-circuitpython-asyncio==3.1.1",
    "adafruit-circuitpython-ticks==1.1.7",
    "adafruit-circuitpython-ble==10.1.5",
)


def install(quiet=True):
    """pip-install the libraries into .cplib/ (skipped when that exact set is there)."""
    stamp = CPLIB_DIR / ".installed"
    want = "\n".join(REQUIREMENTS)
    if stamp.exists() and stamp.read_text() == want:
        return CPLIB_DIR
    cmd = [sys.executable, "-m", "pip", "install", "--no-user", "--no-deps", "--upgrade",
           "--disable-pip-version-check", "--target", str(CPLIB_DIR), *REQUIREMENTS]
    if quiet:
        cmd.insert(4, "-q")
    subprocess.run(cmd, check=True)
    stamp.write_text(want)
    return CPLIB_DIR


class _CircuitPythonSourceLoader(importlib.machinery.SourceFileLoader):
    """Compiles a library as CircuitPython treats it: annotations are never evaluated.

    Some adafruit_ble modules annotate with names they import only for type checkers;
    CircuitPython ignores annotations, CPython would raise NameError at import.
    """

    def get_code(self, fullname):
        path = self.get_filename(fullname)
        return compile(self.get_data(path), path, "exec", dont_inherit=True,
                       flags=__future__.annotations.compiler_flag)


def _path_hook(path):
    p = Path(path).resolve()
    if p != CPLIB_DIR.resolve() and CPLIB_DIR.resolve() not in p.parents:
        raise ImportError("not the CircuitPython library folder")
    return importlib.machinery.FileFinder(
        path, (_CircuitPythonSourceLoader, importlib.machinery.SOURCE_SUFFIXES))


def on_path():
    """Put .cplib/ at the end of sys.path (after the stdlib: CPython's asyncio still wins),
    its modules compiled the CircuitPython way."""
    install()
    if _path_hook not in sys.path_hooks:
        sys.path_hooks.insert(0, _path_hook)
        sys.path_importer_cache.pop(str(CPLIB_DIR), None)
    if str(CPLIB_DIR) not in sys.path:
        sys.path.append(str(CPLIB_DIR))
    return CPLIB_DIR


if __name__ == "__main__":
    install(quiet="-v" not in sys.argv)
