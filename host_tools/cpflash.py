"""``sprintwatch flash --board NAME`` for CircuitPython boards: copy to the CIRCUITPY drive.

CircuitPython shows up as a USB drive, so flashing is copying: the firmware files the
board runs (the import closure of ``code_cp.py`` and ``boot_cp.py``, written as
``code.py`` and ``boot.py``), the CircuitPython libraries they import (from the PyPI
packages in ``.cplib/``, into ``lib/``), ``board.json`` and a checked ``plan.json``.
Only files whose bytes differ are written, each to ``NAME.new`` beside it and then
renamed into place, so a pulled cable leaves each file either old or new, never half
written. Files a previous flash installed and this one does not are removed; nothing
else on the drive is touched. Sources are copied as ``.py`` (MicroPython's mpy-cross
makes files CircuitPython cannot load).
"""
import ast
import json
import os
import sys
from pathlib import Path

from host_tools import cplibs, firmware

MANIFEST = ".sw-manifest.json"      # drive paths this tool installed, to remove stale ones
TMP_SUFFIX = ".new"
RENAMED = {"code_cp.py": "code.py", "boot_cp.py": "boot.py"}
DRIVE_NAME = "CIRCUITPY"


class FlashError(Exception):
    pass


def find_drive(mounts="/proc/mounts"):
    """The mounted CIRCUITPY drive (Linux, macOS), or FlashError saying what was found."""
    found = []
    try:
        with open(mounts) as f:
            for line in f:
                parts = line.split()
                if len(parts) > 1 and parts[1].replace("\\040", " ").rstrip("/").endswith("/" + DRIVE_NAME):
                    found.append(Path(parts[1].replace("\\040", " ")))
    except OSError:
        pass
    for base in (Path("/Volumes"), Path("/media"), Path("/run/media")):
        found += [p for p in base.glob("**/" + DRIVE_NAME) if p.is_dir()] if base.is_dir() else []
    drives = sorted({p for p in found if (p / "boot_out.txt").exists()})
    if len(drives) == 1:
        return drives[0]
    if not drives:
        raise FlashError("no CIRCUITPY drive found: plug the board in (CircuitPython installed), "
                         "or give its folder with --drive PATH")
    raise FlashError("several CIRCUITPY drives: choose one with --drive (%s)"
                     % ", ".join(map(str, drives)))


def _third_party_imports(paths):
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(Path(path).read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


def library_files(names, libdir):
    """{lib/ path: source file} for each library module or package in ``names``, and
    whatever those import from ``libdir`` in turn."""
    libdir = Path(libdir)
    out = {}
    todo = sorted(names)
    seen = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if (libdir / name).is_dir():
            files = sorted(p for p in (libdir / name).rglob("*.py") if "__pycache__" not in p.parts)
        elif (libdir / (name + ".py")).is_file():
            files = [libdir / (name + ".py")]
        else:
            continue
        for f in files:
            out["lib/" + f.relative_to(libdir).as_posix()] = f
        todo += sorted(_third_party_imports(files) - seen)
    return out


def firmware_files(spec, source=firmware.FIRMWARE_DIR):
    """{drive path: source file} of the firmware for this board."""
    from host_tools.typecheck import import_closure
    source = Path(source)
    entries = [source / name for name in RENAMED]
    chip = (spec.get("accel") or {}).get("chip")
    if chip:
        entries.append(source / "drivers" / (chip + ".py"))
    entries += sorted((source / "swcore").rglob("*.py"))
    files = import_closure(source, entries)
    out = {}
    for f in sorted(files):
        rel = f.relative_to(source).as_posix()
        out[RENAMED.get(rel, rel)] = f
    libs = _third_party_imports(files) - {p.split("/")[0].split(".")[0] for p in out}
    out.update(library_files(libs, cplibs.CPLIB_DIR))
    return out


def plan_contents(spec, board_text, plan_text=None):
    """{drive path: bytes} for everything flash writes."""
    contents = {path: Path(src).read_bytes() for path, src in firmware_files(spec).items()}
    contents["board.json"] = board_text
    if plan_text is not None:
        contents["plan.json"] = plan_text
    return contents


def _write_atomically(path, data):
    tmp = path.with_name(path.name + TMP_SUFFIX)
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def copy_to_drive(drive, contents, progress=None):
    """Write what differs; remove files the last flash installed that are gone now.

    Returns ``(written, removed, unchanged)`` lists of drive paths.
    """
    drive = Path(drive)
    if not drive.is_dir():
        raise FlashError("%s is not a folder" % drive)
    manifest_path = drive / MANIFEST
    try:
        previous = set(json.loads(manifest_path.read_text()))
    except (OSError, ValueError):
        previous = set()
    written, unchanged, removed = [], [], []
    try:
        for rel in sorted(contents):
            target = drive / rel
            data = contents[rel]
            try:
                if target.read_bytes() == data:
                    unchanged.append(rel)
                    continue
            except OSError:
                pass
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(target, data)
            written.append(rel)
            if progress:
                progress(rel)
        for rel in sorted(previous - set(contents)):
            try:
                (drive / rel).unlink()
                removed.append(rel)
            except FileNotFoundError:
                pass
        manifest = json.dumps(sorted(contents), indent=0).encode()
        try:
            same = manifest_path.read_bytes() == manifest
        except OSError:
            same = False
        if not same:            # an unchanged flash writes nothing at all
            _write_atomically(manifest_path, manifest)
    except OSError as e:
        if getattr(e, "errno", None) == 30:        # EROFS
            raise FlashError("the CIRCUITPY drive is read-only: the firmware owns it. Hold "
                             "button A while resetting the board (USB mode), then flash again")
        raise FlashError("writing %s failed: %s" % (drive, e))
    return written, removed, unchanged


def device_key(drive, new_key=False, db=None, board=None):
    """``(device id, sync.key bytes, is_new)``: the drive's key, kept unless ``new_key``;
    the laptop's copy saved and registered for ``sprintwatch sync`` first."""
    from host_tools import device_keys
    device_id = secret = None
    try:
        device_id, secret = device_keys.decode_device_key((Path(drive) / device_keys.DEVICE_KEY_FILE).read_bytes())
    except (OSError, ValueError):
        pass
    is_new = secret is None or new_key
    if is_new:
        device_id = device_id or device_keys.new_device_id()
        secret = device_keys.new_device_secret()
    device_keys.save_host_key(device_id, secret, board=board, port=str(drive))
    device_keys.register_in_sync_db(device_id, secret, board, db)
    return device_id, device_keys.encode_device_key(device_id, secret), is_new


def flash(spec, board_text, drive=None, plan_text=None, out=None, key=False,
          new_key=False, db=None):
    """Flash a CircuitPython board; returns (written, removed, unchanged). With ``key``,
    the device's sync key goes along (kept across flashes unless ``new_key``)."""
    out = out or sys.stdout
    cplibs.install()
    drive = Path(drive) if drive else find_drive()
    contents = plan_contents(spec, board_text, plan_text)
    if key:
        from host_tools import device_keys
        device_id, key_bytes, is_new = device_key(drive, new_key, db, spec["id"])
        contents[device_keys.DEVICE_KEY_FILE] = key_bytes
        print("device %s: sync key %s" % (device_id, "new" if is_new else "kept"), file=out)
    written, removed, unchanged = copy_to_drive(drive, contents)
    print("%s: %d files written, %d removed, %d unchanged (%s)"
          % (drive, len(written), len(removed), len(unchanged), spec["id"]), file=out)
    return written, removed, unchanged


def run_command(args):
    """``sprintwatch flash --board NAME`` when NAME is a CircuitPython board."""
    from host_tools.flash import check_plan, DeviceError
    path = firmware.BOARDS_DIR / ("%s.json" % args.board)
    text = path.read_bytes()
    from swcore import boardspec
    spec = boardspec.parse(text.decode())
    try:
        plan = check_plan(args.plan) if args.plan else None
        flash(spec, text, getattr(args, "drive", None), plan, key=True,
              new_key=args.new_key, db=args.db)
    except (FlashError, DeviceError) as e:
        print("flash error: %s" % e, file=sys.stderr)
        return 1
    return 0


def is_circuitpython(board_name):
    path = firmware.BOARDS_DIR / ("%s.json" % board_name)
    try:
        return json.loads(path.read_text()).get("runtime") == "circuitpython"
    except (OSError, ValueError):
        return False
