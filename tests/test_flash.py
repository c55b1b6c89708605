"""``sprintwatch flash`` against the MicroPython unix port behind a pseudo-terminal.

The pty board (host_tools/pty_board.py) answers the raw REPL like a USB board; its
folder is the board's flash, so the tests look at the files it ends up with.
"""
import hashlib
import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools import device_keys, firmware, flash
from host_tools.device_link import DeviceError, Link, LinkLost
from host_tools.pty_board import PtyBoard

@pytest.fixture
def board_file(tmp_path, monkeypatch):
    """The simulated board's definition; host keys go to a temporary data folder."""
    monkeypatch.setenv("SPRINTWATCH_DATA", str(tmp_path / "host-data"))
    return "sim"


@pytest.fixture
def board(tmp_path):
    root = tmp_path / "flash"
    root.mkdir()
    with PtyBoard(root) as b:
        yield b


def tree(root):
    """{relative path: sha256} of every file on the board."""
    root = Path(root)
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file()}


def run_on_board(root, code):
    """Boot the flashed folder on a fresh MicroPython, as the board would."""
    env = dict(os.environ, MICROPYPATH=".frozen:lib")
    return subprocess.run([firmware.micropython_exe(), "-c", code], cwd=root, env=env,
                          capture_output=True, text=True, timeout=30)


def test_first_flash_installs_compiled_firmware_key_and_config(board, board_file):
    result = flash.flash(board_file, board.port)
    root = Path(board.root)
    files = tree(root)
    expected = flash.build()
    for path, data in expected.items():
        assert files[path] == hashlib.sha256(data).hexdigest(), path
    assert [p for p in files if p.endswith(".py")] == ["main.py"], "only main.py goes as source"
    assert (root / "board.json").read_bytes() == (firmware.BOARDS_DIR / "sim.json").read_bytes()
    device_id, device_secret = device_keys.decode_device_key((root / "sync.key").read_bytes())
    assert device_id == result["device_id"]
    assert device_keys.load_host_key(device_id) == device_secret
    assert oct(Path(result["key_path"]).stat().st_mode & 0o777) == "0o600"
    assert board.resets == 1, "flash ends with a soft reset"
    # The board boots the compiled firmware: the app and the plan parser import from .mpy.
    proc = run_on_board(root, "import app; from swcore import engine; print(app.PLAN_FILE, engine.__file__)")
    assert proc.returncode == 0, proc.stderr
    assert "plan.json swcore/engine.mpy" in proc.stdout


def test_the_sync_database_gets_the_key(board, board_file, tmp_path):
    sessiondb = pytest.importorskip("host_tools.sessiondb")   # arrives with BLE sync
    result = flash.flash(board_file, board.port, db=str(tmp_path / "s.db"))
    _id, secret = device_keys.decode_device_key(Path(board.root, "sync.key").read_bytes())
    assert sessiondb.SessionDB(tmp_path / "s.db").key(result["device_id"]) == secret


def test_second_flash_copies_nothing_and_keeps_the_key(board, board_file):
    first = flash.flash(board_file, board.port)
    key = Path(board.root, "sync.key").read_bytes()
    second = flash.flash(board_file, board.port)
    assert first["written"] and second["written"] == []
    assert Path(board.root, "sync.key").read_bytes() == key
    assert second["key_new"] is False


def test_only_changed_files_are_copied_and_shadowing_sources_removed(board, board_file):
    flash.flash(board_file, board.port)
    root = Path(board.root)
    (root / "swcore" / "engine.mpy").write_bytes(b"damaged")
    (root / "swcore" / "plan.py").write_text("raise ImportError('stale source')\n")
    result = flash.flash(board_file, board.port)
    assert result["written"] == ["swcore/engine.mpy"]
    assert "swcore/plan.py" in result["removed"]
    assert not (root / "swcore" / "plan.py").exists()
    assert run_on_board(root, "import app").returncode == 0


def test_new_key_replaces_device_and_host_copies(board, board_file):
    first = flash.flash(board_file, board.port)
    old_secret = device_keys.load_host_key(first["device_id"])
    second = flash.flash(board_file, board.port, new_key=True)
    device_id, secret = device_keys.decode_device_key(Path(board.root, "sync.key").read_bytes())
    assert second["written"] == ["sync.key"] and second["key_new"]
    assert device_id == first["device_id"] == second["device_id"], "the device keeps its id"
    assert secret != old_secret
    assert device_keys.load_host_key(device_id) == secret


def test_plan_is_checked_before_anything_is_written(board, board_file, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "sets": [{"name": "s", "steps": [{"name": "a", "kind": "timed"}]}]}))
    with pytest.raises(DeviceError, match="duration_s"):
        flash.flash(board_file, board.port, plan=str(bad))
    assert tree(board.root) == {}
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"name": "x", "sets": [{"name": "s", "steps": [
        {"name": "a", "kind": "timed", "duration_s": 30}]}]}))
    flash.flash(board_file, board.port, plan=str(good))
    assert Path(board.root, "plan.json").read_text() == good.read_text()
    # A later flash without --plan keeps the plan.
    flash.flash(board_file, board.port)
    assert Path(board.root, "plan.json").exists()


def test_interrupted_copy_leaves_previous_firmware_then_completes(board, board_file):
    flash.flash(board_file, board.port)
    root = Path(board.root)
    for name in ("engine.mpy", "plan.mpy", "cues.mpy"):
        (root / "swcore" / name).write_bytes(b"old version of " + name.encode())
    previous = tree(root)
    with pytest.raises(DeviceError, match="keeps its previous firmware"):
        flash.flash(board_file, board.port, interrupt_after=2)
    after = {p: h for p, h in tree(root).items() if not p.endswith(flash.TMP_SUFFIX)}
    assert after == previous
    flash.flash(board_file, board.port)
    assert not any(p.endswith(flash.TMP_SUFFIX) for p in tree(root))
    assert run_on_board(root, "import app").returncode == 0


def test_cable_pulled_mid_copy_is_reported_and_board_stays_bootable(tmp_path, board_file, monkeypatch):
    root = tmp_path / "flash"
    root.mkdir()
    with PtyBoard(root) as b:
        flash.flash(board_file, b.port)
    (root / "swcore" / "engine.mpy").write_bytes(b"old")
    (root / "app.mpy").unlink()
    (root / "app.py").write_text("PLAN_FILE = 'old app'\n")
    previous = tree(root)
    with PtyBoard(root) as b:
        write = Link.write

        def write_then_pull(self, path, data, progress=None):
            if b.unplug_after is None:          # pull the cable 1 KB into the first file
                b.unplug_after = b.received + 1024
            return write(self, path, data, progress)
        monkeypatch.setattr(Link, "write", write_then_pull)
        with pytest.raises(LinkLost, match="lost the connection"):
            flash.flash(board_file, b.port)
    assert any(p.endswith(flash.TMP_SUFFIX) for p in tree(root)), "the cut came mid-copy"
    after = {p: h for p, h in tree(root).items() if not p.endswith(flash.TMP_SUFFIX)}
    assert after == previous
    assert run_on_board(root, "import app; print(app.PLAN_FILE)").stdout.strip() == "old app"


def test_renames_cut_short_are_completed_by_the_next_flash(board, board_file):
    flash.flash(board_file, board.port)
    root = Path(board.root)
    good = (root / "swcore" / "engine.mpy").read_bytes()
    (root / "swcore" / "engine.mpy").write_bytes(b"old")
    (root / "swcore" / "engine.mpy.new").write_bytes(good)
    (root / flash.JOURNAL).write_text(json.dumps([["swcore/engine.mpy.new", "swcore/engine.mpy"]]))
    result = flash.flash(board_file, board.port)
    assert result["written"] == []
    assert (root / "swcore" / "engine.mpy").read_bytes() == good
    assert not (root / flash.JOURNAL).exists()


def test_missing_port_is_named(board_file, tmp_path):
    with pytest.raises(DeviceError, match="does not exist: is the board plugged in"):
        flash.flash(board_file, str(tmp_path / "ttyACM9"))


def test_a_port_without_micropython_is_refused(board_file):
    master, slave = pty.openpty()   # a serial device that never answers
    try:
        with pytest.raises(DeviceError, match="does not answer like a MicroPython board"):
            flash.flash(board_file, os.ttyname(slave), connect_timeout=1)
    finally:
        os.close(slave)
        os.close(master)


def test_unknown_or_bad_board_is_refused(tmp_path):
    with pytest.raises(DeviceError, match="unknown board 'no-such-board' .known: .*sim"):
        flash.load_board("no-such-board")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"id": "x", "name": "x", "runtime": "micropython", "port": "z80"}))
    with pytest.raises(DeviceError, match="port"):
        flash.load_board(str(bad))


def test_mpremote_cli_drives_the_pty_board(board):
    """The real ``mpremote connect PTY resume ...`` path, and its soft reset."""
    exe = str(Path(sys.executable).parent / "mpremote")
    out = subprocess.run([exe, "connect", board.port, "resume", "exec",
                          "open('hello.txt','w').write('hi')", "+", "fs", "sha256sum", ":hello.txt"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert hashlib.sha256(b"hi").hexdigest() in out.stdout
    out = subprocess.run([exe, "connect", board.port, "soft-reset", "exec", "print(6*7)"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "42" in out.stdout and board.resets == 1


def test_an_unchanged_flash_writes_nothing_and_shows_the_firmware_version(board, board_file):
    first = flash.flash(board_file, board.port)
    root = Path(board.root)
    version = json.loads((root / flash.VERSION_FILE).read_text())
    assert version["firmware"] == firmware.firmware_version() == first["firmware"]["firmware"]
    for p in root.rglob("*"):
        if p.is_file():
            os.utime(p, ns=(1_000_000_000, 1_000_000_000))
    second = flash.flash(board_file, board.port)
    assert second["written"] == [] and second["removed"] == []
    changed = [p for p in root.rglob("*") if p.is_file() and p.stat().st_mtime_ns != 1_000_000_000]
    assert changed == [], "rewritten by an unchanged flash"
    assert second["firmware"] == version


def test_compiled_modules_come_from_the_cache_until_a_source_changes(tmp_path, monkeypatch):
    from host_tools import mpy
    monkeypatch.setenv("SPRINTWATCH_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "fw"
    shutil.copytree(firmware.FIRMWARE_DIR / "swcore", src / "swcore", ignore=shutil.ignore_patterns("__pycache__"))
    compiled = []
    real = mpy.compile_file
    monkeypatch.setattr(mpy, "compile_file", lambda s, *a, **k: (compiled.append(Path(s).name), real(s, *a, **k)))
    first = mpy.compile_tree_cached(src, progress=False)
    assert len(compiled) == len(first) > 10
    compiled.clear()
    assert mpy.compile_tree_cached(src, progress=False) == first and compiled == []
    (src / "swcore" / "cues.py").write_text((src / "swcore" / "cues.py").read_text() + "\nX_NEW = 1\n")
    again = mpy.compile_tree_cached(src, progress=False)
    assert compiled == ["cues.py"] and again["swcore/cues.mpy"] != first["swcore/cues.mpy"]
    compiled.clear()
    monkeypatch.setattr(mpy, "mpy_cross_version", lambda: "MicroPython v9.9 mpy-cross emitting mpy v7.0")
    mpy.compile_tree_cached(src, progress=False)
    assert len(compiled) == len(first), "another mpy-cross compiles everything afresh"
    # The cached bytes are mpy-cross's own: the same as compiling the file directly.
    real(src / "swcore" / "plan.py", tmp_path / "plan.mpy", source_name="swcore/plan.py")
    assert (tmp_path / "plan.mpy").read_bytes() == first["swcore/plan.mpy"]
