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
