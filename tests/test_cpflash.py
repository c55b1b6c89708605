"""Flashing a CircuitPython board = copying to its CIRCUITPY drive (a folder here)."""
import json
import os
from pathlib import Path

import pytest

from host_tools import cpflash
from swcore import boardspec

ROOT = Path(__file__).resolve().parent.parent


def _board(name):
    text = (ROOT / "boards" / (name + ".json")).read_bytes()
    return boardspec.parse(text.decode()), text


@pytest.fixture
def drive(tmp_path):
    d = tmp_path / "CIRCUITPY"
    d.mkdir()
    (d / "boot_out.txt").write_text("Adafruit CircuitPython 10.0.0 on 2026-01-01; Adafruit CLUE\n")
    (d / "my-notes.txt").write_text("the runner's own file")
    return d


def test_first_flash_writes_firmware_libraries_and_board_file(drive):
    spec, text = _board("clue")
    written, removed, unchanged = cpflash.flash(spec, text, drive)
    have = {p.relative_to(drive).as_posix() for p in drive.rglob("*") if p.is_file()}
    for must in ("code.py", "boot.py", "board.json", "swrt/cp.py", "swrt/runner.py",
                 "swcore/engine.py", "drivers/lsm6ds.py", "app.py",
                 "lib/asyncio/__init__.py", "lib/adafruit_ticks.py", "swrt/ble_cp.py",
                 "swcore/syncproto.py", "lib/adafruit_ble/__init__.py",
                 "lib/adafruit_ble/advertising/standard.py"):
        assert must in have, must
    for must_not in ("main.py", "swrt/mp.py", "swrt/sim.py", "code_cp.py", "boot_cp.py"):
        assert must_not not in have, must_not
    assert not [p for p in have if p.endswith(cpflash.TMP_SUFFIX)]
    assert (drive / "board.json").read_bytes() == text
    assert (drive / "code.py").read_text() == (ROOT / "firmware" / "code_cp.py").read_text()
    assert "my-notes.txt" in have and not removed and not unchanged


def test_second_flash_writes_only_what_changed(drive):
    spec, text = _board("clue")
    cpflash.flash(spec, text, drive)
    (drive / "swcore" / "engine.py").write_text("# damaged\n")
    written, removed, unchanged = cpflash.flash(spec, text, drive)
    assert written == ["swcore/engine.py"] and not removed and len(unchanged) > 20
    assert cpflash.flash(spec, text, drive)[0] == []


def test_files_of_the_previous_flash_that_are_gone_are_removed_and_nothing_else(drive):
    spec, text = _board("clue")
    cpflash.flash(spec, text, drive)
    manifest = json.loads((drive / cpflash.MANIFEST).read_text())
    (drive / "swrt" / "old_module.py").write_text("# from an older firmware\n")
    (drive / cpflash.MANIFEST).write_text(json.dumps(manifest + ["swrt/old_module.py"]))
    _w, removed, _u = cpflash.flash(spec, text, drive)
    assert removed == ["swrt/old_module.py"] and not (drive / "swrt" / "old_module.py").exists()
    assert (drive / "my-notes.txt").exists()


def test_a_plan_goes_with_the_firmware(drive):
    spec, text = _board("circuitplayground-bluefruit")
    cpflash.flash(spec, text, drive, plan_text=b'{"name": "x"}')   # checked by the caller
    assert (drive / "plan.json").read_bytes() == b'{"name": "x"}'
    assert (drive / "drivers" / "lis3dh.py").exists()


def test_the_drive_is_found_from_the_mount_table(tmp_path, drive):
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 %s vfat rw 0 0\n" % drive)
    assert cpflash.find_drive(str(mounts)) == drive
    mounts.write_text("/dev/sda1 / ext4 rw 0 0\n")
    with pytest.raises(cpflash.FlashError, match="--drive"):
        cpflash.find_drive(str(mounts))


def test_a_read_only_drive_says_how_to_get_usb_mode(drive, monkeypatch):
    # The firmware owns the drive (boot.py remounted it): the computer sees EROFS.
    spec, text = _board("clue")

    def erofs(path, data):
        raise OSError(30, "Read-only file system", str(path))
    monkeypatch.setattr(cpflash, "_write_atomically", erofs)
    with pytest.raises(cpflash.FlashError, match="button A"):
        cpflash.flash(spec, text, drive)


def test_sprintwatch_flash_board_copies_to_the_drive_with_a_sync_key(drive, tmp_path, monkeypatch, capsys):
    from host_tools import cli, device_keys
    monkeypatch.setenv("SPRINTWATCH_DATA", str(tmp_path / "data"))
    db = tmp_path / "sessions.db"
    assert cli.main(["flash", "--board", "clue", "--drive", str(drive), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "sync key new" in out and (drive / "code.py").exists()
    dev_id, secret = device_keys.decode_device_key((drive / "sync.key").read_bytes())
    from host_tools.sessiondb import SessionDB
    assert SessionDB(db).key(dev_id) == secret                 # sprintwatch sync can use it
    assert cli.main(["flash", "--board", "clue", "--drive", str(drive), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "sync key kept" in out and "0 files written" in out


def test_an_unchanged_flash_writes_nothing_not_even_the_manifest(drive):
    spec, text = _board("clue")
    cpflash.flash(spec, text, drive)
    before = {p: p.stat().st_mtime_ns for p in drive.rglob("*") if p.is_file()}
    for p in before:                       # an old timestamp: any rewrite would show
        os.utime(p, ns=(1_000_000_000, 1_000_000_000))
    written, removed, _unchanged = cpflash.flash(spec, text, drive)
    assert written == [] and removed == []
    assert {p: p.stat().st_mtime_ns for p in drive.rglob("*") if p.is_file()} == dict.fromkeys(before, 1_000_000_000)
