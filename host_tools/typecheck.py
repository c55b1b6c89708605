"""``make typecheck``: the firmware checked against the published stubs of each board's port.

For every board in ``boards/`` (the simulated one aside) basedpyright checks, against
that port's stubs and nothing else:

- the board's hardware modules: the files its entry point (``main.py`` on MicroPython,
  ``code_cp.py``, code.py on the drive, on CircuitPython) imports, directly or not, plus the driver of its
  accelerometer (and display) chip, which the runtime imports by name;
- every pure module (``swcore/``), so the pure core uses only what all ports share;
- in the hardware modules (``HARDWARE_MODULES``), no member of unknown type: a port
  object handed over untyped would have its every call go unchecked;
- on CircuitPython, the board's pin names (``boards/NAME.json``) against that board's
  own ``board`` module from ``circuitpython-stubs``.

Each port's stubs live in a folder of their own (``.stubs/NAME``), installed by
``make stubs`` (``python -m host_tools.typecheck --install``), and each check runs
with only that folder on its search path, so one port's ``machine`` never hides
another's. The CircuitPython wheel leaves out ``time``, ``os``, ``math`` and
``struct``: those are checked against CPython's typeshed, whose ``time`` has
``monotonic_ns`` but no ``ticks_ms``, which is the difference that matters here.

Usage: ``python -m host_tools.typecheck [--install] [--board ID ...]``; exit 1 on any error.
"""
import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUBS_DIR = ROOT / ".stubs"
OUT_DIR = ROOT / "out" / "typecheck"

# Stub folder -> the PyPI requirement installed into it.
PORT_STUBS = {
    "mp-rp2-pico-w": "micropython-rp2-rpi-pico-w-stubs==1.29.0.post1",
    "mp-esp32": "micropython-esp32-esp32-generic-stubs==1.29.0.post1",
    "mp-esp32-s3": "micropython-esp32-esp32-generic-s3-stubs==1.29.0.post1",
    "mp-esp32-c3": "micropython-esp32-esp32-generic-c3-stubs==1.29.0.post1",
    "circuitpython": "circuitpython-stubs==10.3.1",
}
# MicroPython firmware variant (the board's "variant") -> stub folder.
MP_VARIANTS = {
    "RPI_PICO_W": "mp-rp2-pico-w",
    "ESP32_GENERIC": "mp-esp32",
    "ESP32_GENERIC-SPIRAM": "mp-esp32",
    "ESP32_GENERIC_S3": "mp-esp32-s3",
    "ESP32_GENERIC_S3-SPIRAM_OCT": "mp-esp32-s3",
    "ESP32_GENERIC_C3": "mp-esp32-c3",
}
# Entry points per runtime (code_cp.py and boot_cp.py are code.py and boot.py on the drive).
ENTRY = {"micropython": ("main.py",), "circuitpython": ("code_cp.py", "boot_cp.py")}
# Checks that catch a call the port lacks; the rest of "standard" stays on too.
CONFIG = {
    "pythonVersion": "3.11",
    "typeCheckingMode": "standard",
    "reportMissingModuleSource": "none",
    "reportOptionalMemberAccess": "none",     # the core's "None until started" fields
    "reportOptionalSubscript": "none",
    "reportOptionalOperand": "none",          # the same None-until-set flow, in arithmetic
    "reportAssignmentType": "none",           # the `def const(x)` fallback vs the stub's
    "reportPossiblyUnboundVariable": "none",         # flow the checker cannot follow, not an API
    "reportAttributeAccessIssue": "error",
    "reportCallIssue": "error",
    "reportArgumentType": "error",
    "reportMissingImports": "error",
    "reportUndefinedVariable": "error",
    "reportUnknownMemberType": "error",       # kept for the hardware modules only (_report)
}

# The modules that hold port objects (buses, pins, PWM, radios): a member of one of
# these whose type the checker does not know at all means a port object reached it
# untyped, so none of its calls are checked. That fails the check (see
# drivers/bus.pyi and swrt/porttypes.pyi for how to type it). "Partially unknown"
# (a stub's own ``array[Unknown]``, an untyped helper argument) does not.
HARDWARE_MODULES = ("drivers/", "swrt/mp.py", "swrt/cp.py", "swrt/cpbus.py", "swrt/cpstorage.py",
                    "swrt/ble_mp.py", "swrt/ble_cp.py")


# Known mistakes in the published stubs, where the port and its documentation accept
# the call: (text on the flagged source line, text in the checker's message, why).
STUB_ERRATA = (
    ("gatts_notify(", "Expected 2 positional arguments",
     "micropython-*-stubs 1.29 drop conn_handle from BLE.gatts_notify; the ports take "
     "(conn_handle, value_handle, data=None)"),
    ("gap_advertise(", 'No parameter named "adv_data"',
     "the stubs make adv_data positional-only; modbluetooth.c parses it as a keyword too"),
    ("gap_disconnect(", 'parameter "conn_handle" of type "memoryview',
     "micropython-*-stubs 1.29 type conn_handle as memoryview; the ports take the int handle"),
)


class TypecheckError(Exception):
    pass


def _stamp(folder):
    return STUBS_DIR / folder / ".installed"


def install_stubs(folders=None, quiet=True):
    """pip-install each port's stubs into .stubs/FOLDER (skipped when already there)."""
    for folder in folders or PORT_STUBS:
        req = PORT_STUBS[folder]
        stamp = _stamp(folder)
        if stamp.exists() and stamp.read_text() == req:
            continue
        target = STUBS_DIR / folder
        shutil.rmtree(target, ignore_errors=True)
        cmd = [sys.executable, "-m", "pip", "install", "--no-user", "--disable-pip-version-check",
               "--target", str(target), req]
        if quiet:
            cmd.insert(4, "-q")
        subprocess.run(cmd, check=True)
        stamp.write_text(req)


def load_boards(boards_dir):
    boards = []
    for path in sorted(Path(boards_dir).glob("*.json")):
        spec = json.loads(path.read_text())
        spec["_file"] = path.name
        boards.append(spec)
    return boards


def stub_folder(spec):
    """The stub folder for a board, or None for boards that run on the unix port."""
    runtime = spec.get("runtime")
    if runtime == "sim":
        return None
    if runtime == "circuitpython":
        return "circuitpython"
    if runtime == "micropython":
        folder = MP_VARIANTS.get(spec.get("variant"))
        if folder is None:
            raise TypecheckError("%s: no stubs known for MicroPython variant %r: add it to "
                                 "MP_VARIANTS in host_tools/typecheck.py"
                                 % (spec["_file"], spec.get("variant")))
        return folder
    raise TypecheckError("%s: unknown runtime %r" % (spec["_file"], runtime))


def _module_file(firmware, name):
    base = Path(firmware, *name.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def import_closure(firmware, entries):
    """Every firmware file the entry files import (statically, at any depth)."""
    firmware = Path(firmware)
    todo = [Path(e) for e in entries]
    seen = set()
    while todo:
        path = todo.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + ["%s.%s" % (node.module, a.name) for a in node.names]
            for name in names:
                parts = name.split(".")
                for i in range(1, len(parts) + 1):   # packages on the way count too
                    f = _module_file(firmware, ".".join(parts[:i]))
                    if f is not None:
                        todo.append(f)
    return seen


def board_files(spec, firmware):
    """The firmware files checked for one board: its hardware modules plus the pure core."""
    firmware = Path(firmware)
    entries = [firmware / name for name in ENTRY[spec["runtime"]]]
    for part in ("accel", "display"):
        chip = (spec.get(part) or {}).get("chip")
        if chip:
            entries.append(firmware / "drivers" / (chip + ".py"))
    entries += sorted((firmware / "swcore").rglob("*.py"))
    return sorted(import_closure(firmware, entries))


PIN_KEYS = ("pin", "enable", "sda", "scl", "sck", "mosi", "cs", "dc", "rst", "backlight")


def pin_names(spec):
    """Every pin a CircuitPython board definition names, as (field, name)."""
    out = []
    for part, value in spec.items():
        if isinstance(value, dict):
            for key in PIN_KEYS:
                if isinstance(value.get(key), str):
                    out.append(("%s.%s" % (part, key), value[key]))
    return out


def pin_probe(spec):
    """Python source touching ``board.NAME`` for each pin the board file names."""
    lines = ['"""Generated by host_tools.typecheck: the pins %s names."""' % spec["_file"],
             "import board", ""]
    for field, name in pin_names(spec):
        if not name.isidentifier():
            raise TypecheckError("%s: %s: %r is not a pin name" % (spec["_file"], field, name))
        lines.append("board.%s  # %s" % (name, field))
    return "\n".join(lines) + "\n"


CP_ALWAYS = ("micropython",)      # built into every CircuitPython build


def included_modules(definition):
    """The native modules a CircuitPython board has, from its stub's docstring."""
    for line in Path(definition).read_text().splitlines():
        if line.strip().startswith("- Included modules:"):
            names = line.split(":", 1)[1].split(",")
            return sorted({n.strip().split(" ")[0].split(".")[0] for n in names if n.strip()})
    raise TypecheckError("%s: no 'Included modules' line" % definition)


def board_env(spec, work):
    """The search path of a CircuitPython board: its own ``board`` module and only the
    native modules its build includes (so a module the board lacks fails the check)."""
    if spec["runtime"] != "circuitpython":
        return []
    stubs = STUBS_DIR / "circuitpython"
    board_id = spec.get("variant") or spec["id"]
    src = stubs / "board_definitions" / board_id / "__init__.pyi"
    if not src.is_file():
        raise TypecheckError("%s: circuitpython-stubs has no board %r (the board's \"variant\")"
                             % (spec["_file"], board_id))
    own = work / "board-def"
    (own / "board").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, own / "board" / "__init__.pyi")
    for name in list(included_modules(src)) + list(CP_ALWAYS):
        pkg = stubs / (name + "-stubs")
        if pkg.is_dir() and name != "board":
            (own / pkg.name).symlink_to(pkg, target_is_directory=True)
    return [own]


def pyright_exe():
    exe = Path(sys.executable).parent / "basedpyright"
    if not exe.exists():
        raise TypecheckError("basedpyright is not installed: pip install -e '.[dev]'")
    return str(exe)


def prepare(spec, firmware, out_dir):
    """Write the board's pyrightconfig.json (and pin probe); returns the config path."""
    folder = stub_folder(spec)
    stubs = STUBS_DIR / folder
    if not _stamp(folder).exists():
        raise TypecheckError("stubs for %s are not installed: run `make stubs`" % folder)
    work = Path(out_dir) / spec["id"]
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "empty-env" / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    files = [str(f) for f in board_files(spec, firmware)]
    if spec["runtime"] == "circuitpython":
        (work / "board_pins.py").write_text(pin_probe(spec))
        files.append(str(work / "board_pins.py"))
    cfg = dict(CONFIG)
    cfg["include"] = files
    cfg["defineConstant"] = {"CIRCUITPYTHON": spec["runtime"] == "circuitpython"}
    if spec["runtime"] == "circuitpython":          # the board, then its PyPI libraries
        from host_tools import cplibs
        paths = board_env(spec, work) + [cplibs.install()]
    else:
        paths = [stubs]
    cfg["extraPaths"] = [str(firmware)] + [str(p) for p in paths]
    if (stubs / "stdlib").is_dir():                 # MicroPython's own stdlib stubs
        cfg["typeshedPath"] = str(stubs)
    cfg["venvPath"] = str(work)                     # no site-packages: only the stubs count
    cfg["venv"] = "empty-env"
    path = work / "pyrightconfig.json"
    path.write_text(json.dumps(cfg, indent=1))
    return path


def guarded_lines(path):
    """Lines of ``try:`` statements that catch ImportError or AttributeError.

    Such a block is a deliberate feature probe (``from time import sleep_ms``, with a
    fallback for CircuitPython in the handler), so what its body and its handlers call
    may each be missing on some port.
    """
    lines = set()
    for node in ast.walk(ast.parse(Path(path).read_text(), str(path))):
        if not isinstance(node, ast.Try):
            continue
        caught = set()
        for h in node.handlers:
            types = h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
            caught.update(t.id for t in types if isinstance(t, ast.Name))
        if caught & {"ImportError", "AttributeError"}:
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _is_none_artifact(diag):
    """Pyright's None-until-set inference (``self.x = None`` then set elsewhere)."""
    msg = diag.get("message", "")
    return diag.get("rule") in ("reportAttributeAccessIssue", "reportArgumentType") and \
        ('"None" is not assignable to' in msg or 'is not assignable to "None"' in msg
         or '"None" is incompatible with' in msg) or \
        (diag.get("rule") == "reportAttributeAccessIssue" and 'for class "None"' in msg)


def _is_hardware(path):
    path = Path(path).as_posix()
    return any(("/firmware/" + m) in path if m.endswith("/") else path.endswith("/firmware/" + m)
               for m in HARDWARE_MODULES)


def _is_unknown_port_object(diag):
    """reportUnknownMemberType is kept only where it means a port object went untyped."""
    return _is_hardware(diag["file"]) and "partially unknown" not in diag.get("message", "")


def _is_erratum(diag, source_line):
    msg = diag.get("message", "")
    return any(call in source_line and text in msg for call, text, _why in STUB_ERRATA)


def _pyright(cfg):
    return subprocess.run([pyright_exe(), "-p", str(cfg), "--outputjson"], capture_output=True,
                          text=True, cwd=cfg.parent)


def _report(spec, proc):
    """(ok, text) from basedpyright's JSON output, feature probes and known stub errata left out."""
    try:
        diags = json.loads(proc.stdout)["generalDiagnostics"]
    except (ValueError, KeyError):
        return False, "basedpyright failed: " + proc.stdout[-2000:] + proc.stderr[-2000:]
    guards = {}
    errors = []
    for d in diags:
        if d.get("severity") != "error" or _is_none_artifact(d):
            continue
        if d.get("rule") == "reportUnknownMemberType" and not _is_unknown_port_object(d):
            continue
        line = d["range"]["start"]["line"] + 1
        f = d["file"]
        if f not in guards:
            guards[f] = guarded_lines(f) if f.endswith(".py") else set()
        if line in guards[f]:
            continue
        if f.endswith(".py") and _is_erratum(d, Path(f).read_text().splitlines()[line - 1]):
            continue
        where = os.path.relpath(f, ROOT)
        if Path(f).name == "board_pins.py":        # point at the board file's field
            where = "boards/%s %s" % (spec["_file"], Path(f).read_text().splitlines()[line - 1].split("# ")[-1])
        errors.append("%s:%d: %s (%s)" % (where, line, d["message"].replace("\n", " "), d.get("rule", "")))
    return not errors, "\n".join(errors)


def check(firmware=ROOT / "firmware", boards_dir=ROOT / "boards", out_dir=OUT_DIR, only=()):
    """Check every board; returns [(board id, stub folder, ok, report)].

    Configs and reports are made in this thread (CPython 3.11's ``ast`` is not safe to
    use from several threads); only the basedpyright processes run two at a time.
    """
    boards = [b for b in load_boards(boards_dir) if stub_folder(b) is not None]
    if only:
        boards = [b for b in boards if b["id"] in only]
    cfgs = [prepare(b, Path(firmware), out_dir) for b in boards]
    with ThreadPoolExecutor(max_workers=2) as pool:
        procs = list(pool.map(_pyright, cfgs))
    return [(b["id"], stub_folder(b)) + _report(b, proc) for b, proc in zip(boards, procs)]


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m host_tools.typecheck", description=__doc__.split("\n")[0])
    p.add_argument("--install", action="store_true", help="install the port stubs into .stubs/ and exit")
    p.add_argument("--board", action="append", default=[], help="check only this board id")
    args = p.parse_args(argv)
    try:
        if args.install:
            install_stubs()
            return 0
        results = check(only=args.board)
    except TypecheckError as e:
        print("typecheck: %s" % e, file=sys.stderr)
        return 1
    failed = 0
    for board, folder, ok, text in results:
        print("%-6s %s against %s stubs" % ("ok" if ok else "FAIL", board, folder))
        if not ok:
            failed += 1
            print(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
