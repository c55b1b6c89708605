"""`sprintwatch sync --sim`, `sessions` and `plan upload` as a runner uses them."""
import json
import shutil

from host_tools import cli, device_keys
from host_tools.sessiondb import SessionDB
from host_tools.sync_cmd import sim_folder


def sprintwatch(capsys, *argv):
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_sync_sim_twice_then_sessions(tmp_path, capsys):
    db = str(tmp_path / "sessions.db")
    rc, out, err = sprintwatch(capsys, "sync", "--sim", "--db", db, "--no-progress")
    assert rc == 0, err
    assert "synced 12 sessions" in out and "device clock set to" in out
    assert "device battery 80%" in out          # the simulated device's STATUS battery_pct
    rows = SessionDB(db).sessions()
    assert len(rows) == 12 and all(r[6] for r in rows)
    rc, out, err = sprintwatch(capsys, "sync", "--sim", "--db", db, "--no-progress")
    assert rc == 0 and "nothing new" in out
    rc, out, _ = sprintwatch(capsys, "sessions", "--db", db)
    assert rc == 0 and out.count("synced ") == 12


def test_sync_sim_with_a_wrong_key_is_refused(tmp_path, capsys):
    db = tmp_path / "a" / "sessions.db"
    assert sprintwatch(capsys, "sync", "--sim", "--db", str(db), "--no-progress")[0] == 0
    other = tmp_path / "b" / "sessions.db"
    shutil.copytree(sim_folder(db), sim_folder(other))   # the same device...
    dev_id = device_keys.read_key_file(sim_folder(other))[0]
    stranger = SessionDB(other)
    stranger.set_key(dev_id, bytes(32))                  # ...but a laptop with the wrong key
    stranger.close()
    rc, out, err = sprintwatch(capsys, "sync", "--sim", "--db", str(other), "--no-progress")
    assert rc == 1 and "sync failed" in err and "key" in err
    assert SessionDB(other).sessions() == []


def test_plan_upload_checks_first(tmp_path, capsys):
    db = str(tmp_path / "sessions.db")
    rc, out, _ = sprintwatch(capsys, "plan", "show", "--json")
    good = tmp_path / "good.json"
    good.write_text(out)
    rc, out, err = sprintwatch(capsys, "plan", "upload", str(good), "--sim", "--db", db)
    assert rc == 0, err
    assert "installed" in out
    assert json.loads((sim_folder(db) / "plan.json").read_text()) == json.loads(good.read_text())
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "sets": [{"name": "s", "steps": [{"name": "a", "kind": "timed"}]}]}))
    try:
        rc = cli.main(["plan", "upload", str(bad), "--sim", "--db", db])
    except SystemExit as e:
        rc = e.code
    assert rc == 1
    assert "duration_s" in capsys.readouterr().err
    assert json.loads((sim_folder(db) / "plan.json").read_text()) == json.loads(good.read_text())


def test_sync_without_a_bluetooth_adapter_says_so(tmp_path, capsys, monkeypatch):
    import bleak

    class NoAdapter:
        @staticmethod
        async def find_device_by_filter(*a, **k):
            raise FileNotFoundError(2, "No such file or directory")
    monkeypatch.setattr(bleak, "BleakScanner", NoAdapter)
    rc, out, err = sprintwatch(capsys, "sync", "--db", str(tmp_path / "s.db"), "--no-progress")
    assert rc == 1 and "no Bluetooth adapter" in err and "--sim" in err


def test_sync_sim_without_db_leaves_the_users_data_alone(tmp_path, capsys, monkeypatch):
    """`sync --sim` (no --db) keeps its device and sessions in the cache folder: the
    user's data folder, where `plot --progress` and `next` read, is never created."""
    data, cache = tmp_path / "data", tmp_path / "cache"
    shared = device_keys.cache_dir() / "simstore"        # the test run's fills, not rerun here
    shared.mkdir(parents=True, exist_ok=True)
    cache.mkdir()
    (cache / "simstore").symlink_to(shared)
    monkeypatch.setenv("SPRINTWATCH_DATA", str(data))
    monkeypatch.setenv("SPRINTWATCH_CACHE", str(cache))
    rc, out, err = sprintwatch(capsys, "sync", "--sim", "--no-progress")
    assert rc == 0, err
    assert "synced 12 sessions" in out and str(cache) in err
    assert not data.exists()
    rc, out, _ = sprintwatch(capsys, "sessions", "--sim")
    assert rc == 0 and out.count("synced ") == 12
    assert not data.exists()


def test_sessions_delete_and_rename(tmp_path, capsys):
    db = str(tmp_path / "sessions.db")
    assert sprintwatch(capsys, "sync", "--sim", "--db", db, "--no-progress")[0] == 0
    dev = SessionDB(db).sessions()[0][0]
    rc, out, _ = sprintwatch(capsys, "sessions", "delete", "3", "--db", db)
    assert rc == 0 and "deleted session %s:3" % dev in out
    assert [r[1] for r in SessionDB(db).sessions()] == [1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    rc, out, _ = sprintwatch(capsys, "sessions", "--db", db, "rename", "%s:4" % dev, "Hill day")
    assert rc == 0
    rc, out, _ = sprintwatch(capsys, "sessions", "--db", db)
    line4 = next(line for line in out.splitlines() if line.split()[:1] == ["4"])
    assert "'Hill day'" in line4 and "'Hill day'" not in out.replace(line4, "")
    # Deleted stays deleted for export; a session id that is not there is named.
    rc = cli.main(["export", "3", "--db", db, "--out", str(tmp_path / "x.fit")])
    assert rc == 1 and "no stored session" in capsys.readouterr().err
    try:
        rc = cli.main(["sessions", "delete", "99", "--db", db])
    except SystemExit as e:
        rc, msg = e.code, str(e)
    assert rc != 0 and "no stored session 99" in msg


def test_sync_keys_are_not_readable_by_others(tmp_path, capsys):
    """The device keys are in a 0600 file beside the database, not in the database."""
    import os
    import sqlite3
    db = tmp_path / "sessions.db"
    assert sprintwatch(capsys, "sync", "--sim", "--db", str(db), "--no-progress")[0] == 0
    keys = db.with_name("sessions.keys")
    assert os.stat(keys).st_mode & 0o777 == 0o600
    assert os.stat(db).st_mode & 0o077 == 0
    dev_id, secret = device_keys.read_key_file(sim_folder(db))
    assert secret not in db.read_bytes() and secret.hex().encode() not in db.read_bytes()
    assert SessionDB(db).key(dev_id) == secret
    # A database from before keeps working: its keys move out on open.
    old = tmp_path / "old.db"
    con = sqlite3.connect(old)
    con.executescript("CREATE TABLE devices (device_id TEXT PRIMARY KEY, key BLOB NOT NULL, name TEXT, "
                      "last_sync INTEGER); INSERT INTO devices VALUES ('sw-old', X'%s', NULL, NULL);" % ("ab" * 32))
    con.commit()
    con.close()
    os.chmod(old, 0o644)
    assert SessionDB(old).key("sw-old") == bytes([0xab]) * 32
    assert bytes([0xab]) * 32 not in old.read_bytes()
    assert os.stat(old).st_mode & 0o777 == 0o600 and os.stat(tmp_path / "old.keys").st_mode & 0o777 == 0o600


def test_sync_shows_the_devices_firmware_version(tmp_path, capsys):
    from host_tools import firmware
    rc, out, err = sprintwatch(capsys, "sync", "--sim", "--db", str(tmp_path / "s.db"), "--no-progress")
    assert rc == 0, err
    dev = SessionDB(tmp_path / "s.db").sessions()[0][0]
    assert "%s: firmware %s" % (dev, firmware.firmware_version()) in out


def test_sessions_show_the_battery_level_logged_at_the_start():
    from host_tools import firmware  # noqa: F401  (firmware/ on sys.path)
    from host_tools.sync import session_metadata
    from host_tools.sync_cmd import describe
    from swcore import battery, logformat
    data = (logformat.encode_header(4, 1, "Descending Sprints", 0, "0.1.0", None)
            + logformat.encode_record(0, "battery", battery.record(3712))
            + logformat.encode_record(10, "session_end", {"reps": 0, "paused_ms": 0}))
    meta = session_metadata(data)
    assert meta["battery_pct"] == battery.percent(3712) == 32 and meta["battery_mv"] == 3712
    line = describe([("dev", 4, len(data), 0, meta, 0, True)], 4)
    assert "battery 32% (3.71 V)" in line, line
