"""``sprintwatch flash``: put the firmware, board config, sync key and plan on a board.

Steps (docs/flash.md): check the plan, compile ``firmware/`` with mpy-cross, connect
over USB serial (mpremote's raw REPL, no reset), hash every target file on the
device, write only what differs to ``NAME.new``, verify those on the device, then
rename them into place in one short burst, remove stale files, verify everything
again, check the firmware imports, and soft-reset. An interrupted copy leaves the
previous firmware untouched: nothing is renamed until every new file is verified.
"""
import hashlib
import json
import subprocess
import sys
from pathlib import Path

from host_tools import firmware, mpy
from host_tools.device_errors import DeviceError, LinkLost
from swcore import boardspec
from swcore import plan as planmod

MANIFEST = ".sw-manifest.json"   # device paths that flash installed, for removing stale ones
JOURNAL = ".sw-pending.json"     # renames in progress; a later flash completes them
TMP_SUFFIX = ".new"
BOARD_FILE = "board.json"
PLAN_FILE = "plan.json"
VERSION_FILE = "firmware.json"   # {"firmware": version, "build": id}: what flash installed
SOURCE_ONLY = ("boot.py", "main.py")  # a board runs these as source
MPY_MAJOR = 6


def register(sub):
    p = sub.add_parser("flash", help="copy the firmware, board config, sync key and plan to a board",
                       description="Compile firmware/ with mpy-cross and copy what changed to a "
                                   "MicroPython board over USB serial (mpremote raw REPL).")
    p.add_argument("--board", required=True, help="board name in boards/ (or a board JSON file)")
    p.add_argument("--port", help="serial port (default: the only USB serial port found)")
    p.add_argument("--plan", help="session plan to install (checked first): a JSON file or a library "
                                  "NAME from `sprintwatch plan list`, e.g. beginner-walk")
    p.add_argument("--source", action="store_true",
                   help="copy .py sources instead of compiled .mpy (for a board whose "
                        "MicroPython reads another .mpy version)")
    p.add_argument("--new-key", action="store_true", help="replace the device's sync key with a new one")
    p.add_argument("--db", help="sync database that gets the key too (default: the one sprintwatch sync uses)")
    p.add_argument("--drive", help="CircuitPython boards: the CIRCUITPY drive's folder (default: found)")
    p.set_defaults(func=run_command)


# ---- host side ---------------------------------------------------------------------
def load_board(name):
    """(board dict, file bytes): a board from boards/ (or a JSON file), checked as the device will."""
    path = Path(name) if name.endswith(".json") else firmware.BOARDS_DIR / ("%s.json" % name)
    if not path.exists():
        known = sorted(p.stem for p in firmware.BOARDS_DIR.glob("*.json"))
        raise DeviceError("unknown board %r (known: %s)" % (name, ", ".join(known) or "none"))
    text = path.read_bytes()
    try:
        board = boardspec.parse(text.decode("utf-8"))
    except (boardspec.BoardError, UnicodeDecodeError) as e:
        raise DeviceError("%s: %s (nothing was flashed)" % (path, e))
    if board["runtime"] == "circuitpython":
        raise DeviceError("board %r runs CircuitPython: copy firmware/ to its CIRCUITPY drive "
                          "instead (flash speaks MicroPython's raw REPL)" % board["id"])
    return board, text


def check_plan(path):
    """The plan's bytes, after the device's own parser accepted them. ``path`` may name a
    plan of the built-in library instead of a file (``sprintwatch plan list``)."""
    from host_tools import plan_library
    if path in plan_library.ENTRIES and not Path(path).exists():
        return plan_library.text(path).encode()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise DeviceError("cannot read plan %s: %s" % (path, e.strerror))
    try:
        planmod.parse(text)
    except planmod.PlanError as e:
        raise DeviceError("%s: %s (nothing was flashed)" % (path, e))
    return text.encode()


def build(source=False):
    """{device path: bytes} for every firmware file, compiled unless ``source``
    (from the mpy cache where the source, mpy-cross and its options are unchanged)."""
    out = {}
    for src in sorted(firmware.FIRMWARE_DIR.rglob("*.py")):
        rel = src.relative_to(firmware.FIRMWARE_DIR).as_posix()
        if "__pycache__" in rel:
            continue
        if source or rel in SOURCE_ONLY:
            out[rel] = src.read_bytes()
    if not source:
        try:
            out.update(mpy.compile_tree_cached())
        except subprocess.CalledProcessError as e:
            raise DeviceError("mpy-cross failed: %s" % (e.stderr or "").strip())
    out[VERSION_FILE] = version_file(out)
    return out


def version_file(files):
    """What ``firmware.json`` on the device says: the firmware version and a build id
    (digest of every firmware file flashed), so a changed tree with the same version shows."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + sha(files[path]).encode() + b"\n")
    return (json.dumps({"firmware": firmware.firmware_version(), "build": digest.hexdigest()[:12]},
                       sort_keys=True) + "\n").encode()


def sha(data):
    return hashlib.sha256(data).hexdigest()


# ---- device side -------------------------------------------------------------------
def check_micropython(link, source, board):
    name, version, mpy, machine = link.info()
    if name != "micropython":
        raise DeviceError("the board runs %s, not MicroPython" % name)
    mpy_major = mpy & 0xFF
    vtext = ".".join(map(str, version))
    if not source and mpy_major != MPY_MAJOR:
        raise DeviceError("the board's MicroPython %s reads .mpy v%d, mpy-cross writes v%d: "
                          "update MicroPython, or flash with --source" % (vtext, mpy_major, MPY_MAJOR))
    want = board.get("micropython")
    if want and tuple(int(x) for x in str(want).split(".")[:3]) > tuple(version):
        print("warning: board %s expects MicroPython %s or later, the board runs %s"
              % (board["id"], want, vtext), file=sys.stderr)
    return vtext, machine


def finish_pending(link):
    """Complete the renames of a flash that was cut during its rename burst."""
    raw = link.read(JOURNAL)
    if raw is None:
        return 0
    try:
        pairs = json.loads(raw)
    except ValueError:
        pairs = []
    done = 0
    for src, dst in pairs:
        if link.hashes([src])[src] is not None:
            link.rename(src, dst)
            done += 1
    link.remove(JOURNAL)
    return done


def device_secret(link, new_key):
    """(device id, secret, is_new): the device's sync key, kept across flashes unless ``new_key``."""
    from host_tools import device_keys
    device_id = None
    raw = link.read(device_keys.DEVICE_KEY_FILE)
    if raw is not None:
        try:
            device_id, secret = device_keys.decode_device_key(raw)
            if not new_key:
                return device_id, secret, False
        except ValueError:
            print("warning: the device's %s is damaged: writing a new one"
                  % device_keys.DEVICE_KEY_FILE, file=sys.stderr)
    return device_id or device_keys.new_device_id(), device_keys.new_device_secret(), True


def flash(board_name, port=None, plan=None, source=False, new_key=False, out=sys.stdout,
          interrupt_after=None, connect_timeout=5, db=None):
    """Flash a board; returns a summary dict. Raises DeviceError with the user's message.

    ``interrupt_after`` (tests) raises KeyboardInterrupt after that many files were written.
    """
    from host_tools import device_keys                   # the sync protocol's crypto: only when flashing
    from host_tools.device_link import Link, find_port   # serial + mpremote: only when flashing
    board, board_bytes = load_board(board_name)
    plan_bytes = check_plan(plan) if plan else None
    files = build(source)
    port = port or find_port()
    link = Link(port, connect_timeout)
    try:
        vtext, machine = check_micropython(link, source, board)
        print("%s: MicroPython %s (%s)" % (port, vtext, machine), file=out)
        resumed = finish_pending(link)
        if resumed:
            print("completed %d renames left by an interrupted flash" % resumed, file=out)
        device_id, secret, key_is_new = device_secret(link, new_key)
        # The host copy first: a device must never hold a key the laptop lost.
        key_path = device_keys.save_host_key(device_id, secret, board=board["id"], port=port)
        device_keys.register_in_sync_db(device_id, secret, board["name"], db)

        files[BOARD_FILE] = board_bytes
        files[device_keys.DEVICE_KEY_FILE] = device_keys.encode_device_key(device_id, secret)
        if plan_bytes is not None:
            files[PLAN_FILE] = plan_bytes
        old_manifest = _read_manifest(link)
        managed = set(files) | {PLAN_FILE}
        stale = sorted(p for p in old_manifest if p not in managed)
        # A .py beside a new .mpy would shadow it (MicroPython imports .py first).
        stale += sorted(p[:-4] + ".py" for p in files if p.endswith(".mpy"))
        stale += [p + TMP_SUFFIX for p in files]
        before = link.hashes(list(files) + stale)      # one round trip for both
        changed = [p for p in files if before[p] != sha(files[p])]
        stale = [p for p in stale if before[p] is not None]

        _copy(link, files, changed, interrupt_after)
        pairs = [[p + TMP_SUFFIX, p] for p in changed]
        manifest = json.dumps(sorted(set(files) | ({PLAN_FILE} & set(old_manifest)))).encode()
        if changed or stale or set(old_manifest) != set(json.loads(manifest)):
            link.write(MANIFEST + TMP_SUFFIX, manifest)
            pairs.append([MANIFEST + TMP_SUFFIX, MANIFEST])
            link.write(JOURNAL, json.dumps(pairs).encode())
            for src, dst in pairs:
                link.rename(src, dst)
            for p in stale:
                link.remove(p)
            link.remove(JOURNAL)

        if changed or stale:     # else `before` just proved every file equal: nothing to redo
            after = link.hashes(files)
            bad = [p for p in files if after[p] != sha(files[p])]
            if bad:
                raise DeviceError("verification failed for %s: flash again" % ", ".join(bad))
            if not source:
                _check_imports(link)
        link.soft_reset()
    except KeyboardInterrupt:
        raise DeviceError("interrupted: the board keeps its previous firmware (new files are only "
                          "renamed into place once all are copied and verified); flash again")
    except LinkLost as e:
        raise LinkLost("%s: the board keeps its previous firmware unless the cut came during the "
                       "final renames, which the next flash completes; plug it back in and flash again" % e)
    finally:
        link.close()
    return {"port": port, "written": changed, "unchanged": len(files) - len(changed),
            "removed": stale, "bytes": sum(len(files[p]) for p in changed),
            "device_id": device_id, "key_path": str(key_path), "key_new": key_is_new,
            "micropython": vtext, "firmware": json.loads(files[VERSION_FILE])}


def _read_manifest(link):
    raw = link.read(MANIFEST)
    try:
        return json.loads(raw) if raw else []
    except ValueError:
        return []


def _copy(link, files, changed, interrupt_after):
    if not changed:
        return
    from tqdm import tqdm
    total = sum(len(files[p]) for p in changed)
    with tqdm(total=total, unit="B", unit_scale=True, desc="copying", disable=None,
              file=sys.stderr) as bar:
        for n, path in enumerate(changed):
            if interrupt_after is not None and n >= interrupt_after:
                raise KeyboardInterrupt
            bar.set_postfix_str(path)
            link.makedirs(path.rpartition("/")[0])
            link.write(path + TMP_SUFFIX, files[path], bar.update)
    tmp_hashes = link.hashes([p + TMP_SUFFIX for p in changed])
    bad = [p for p in changed if tmp_hashes[p + TMP_SUFFIX] != sha(files[p])]
    if bad:
        raise DeviceError("the device stored %s differently from what was sent (bad cable or "
                          "full flash?): nothing was replaced; flash again" % ", ".join(bad))


def _check_imports(link):
    """Import the app afresh on the device: the new .mpy files load there."""
    link.run("import sys\nfor _k in [k for k in sys.modules if k == 'app' or k.split('.')[0] in "
             "('swcore', 'swrt', 'drivers')]:\n del sys.modules[_k]\nimport app")


def run_command(args):
    from host_tools import cpflash
    if cpflash.is_circuitpython(args.board):      # a CIRCUITPY drive, not a raw REPL
        return cpflash.run_command(args)
    try:
        result = flash(args.board, args.port, args.plan, args.source, args.new_key, db=args.db)
    except DeviceError as e:
        print("flash error: %s" % e, file=sys.stderr)
        return 1
    print("wrote %d files (%d bytes), %d unchanged, removed %d stale"
          % (len(result["written"]), result["bytes"], result["unchanged"], len(result["removed"])))
    fw = result["firmware"]
    print("firmware %s (build %s) %s" % (fw["firmware"], fw["build"],
          "installed" if VERSION_FILE in result["written"] else "was already on the board"))
    print("device %s: sync key %s (%s)" % (
        result["device_id"], "new" if result["key_new"] else "kept", result["key_path"]))
    print("verified and soft-reset")
    return 0
