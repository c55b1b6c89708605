"""Exports decoded by independent readers: FIT by fitdecode, TCX by ElementTree, CSV by csv."""
import csv
import datetime
import io
import json
import xml.etree.ElementTree as ET

import fitdecode
import pytest

from host_tools import cli, export, export_fit
from host_tools.session_model import Session
from host_tools.session_source import load_session
from swcore import plan as planmod
from swcore.default_plan import DEFAULT_PLAN

from sessions import SHORT_PLAN, default_session

PAUSE = "1900:1500,1960:1500"   # a minute's pause in the cool-down jog


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    header, events = default_session(tmp_path_factory.mktemp("run"), holds=PAUSE)
    return header, events, Session(header, events)


def fit_messages(data, tmp_path):
    path = tmp_path / "x.fit"
    path.write_bytes(data)
    out = {}
    with fitdecode.FitReader(str(path), check_crc=fitdecode.CrcCheck.RAISE) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage):
                out.setdefault(frame.name, []).append(
                    {f.name: f.value for f in frame.fields if f.value is not None})
    return out


def test_fit_activity_has_one_lap_per_step_with_intensity_step_index_and_trigger(run, tmp_path):
    header, events, session = run
    msgs = fit_messages(export.export_bytes(header, events, "fit"), tmp_path)
    laps = msgs["lap"]
    assert len(laps) == len(session.steps) == 17
    # The step of the workout export-plan writes, where the repeat block is there once:
    # Easy Jog, Dynamic Stretches, Sprint Setup, (Sprint, Walk Back) x 6, the two cool-down steps.
    assert [lap["wkt_step_index"] for lap in laps] == [0, 1, 2] + [3, 4] * 6 + [6, 7]
    assert [lap["intensity"] for lap in laps] == (
        ["warmup"] * 2 + ["active"] + ["active", "recovery"] * 6 + ["cooldown"] * 2)
    for lap, step in zip(laps, session.steps):
        assert lap["lap_trigger"] == ("manual" if step.reason in ("tap", "skipped") else "time")
        assert lap["total_elapsed_time"] == pytest.approx(step.elapsed_ms / 1000)
        assert lap["total_timer_time"] == pytest.approx(step.timer_ms / 1000)
    start = datetime.datetime.fromtimestamp(header["wall_s"], datetime.timezone.utc)
    assert laps[0]["start_time"] == start
    assert laps[-1]["timestamp"] == start + datetime.timedelta(milliseconds=session.end_ms)
    # The pause in the cool-down counts in elapsed but not in timer time.
    assert laps[15]["total_elapsed_time"] - laps[15]["total_timer_time"] == pytest.approx(60, abs=1)


def test_fit_records_carry_running_cadence_in_strides_with_fraction(run, tmp_path):
    header, events, session = run
    msgs = fit_messages(export.export_bytes(header, events, "fit"), tmp_path)
    start = datetime.datetime.fromtimestamp(header["wall_s"], datetime.timezone.utc)
    by_time = {r["timestamp"]: r for r in msgs["record"]}
    assert len(session.ticks) > 50
    for t, spm, _g in session.ticks:
        rec = by_time[start + datetime.timedelta(milliseconds=t)]
        assert 2 * (rec["cadence"] + rec["fractional_cadence"]) == pytest.approx(spm, abs=0.02)
    sprint_laps = [lap for lap in msgs["lap"] if lap["wkt_step_index"] in
                   [s.index for s in session.steps if s.kind == "sprint"]]
    for lap, step in zip(sprint_laps, [s for s in session.steps if s.kind == "sprint"]):
        spms = [spm for _t, spm, _g in session.ticks_between(step.start_ms, step.end_ms)]
        avg = lap["avg_running_cadence"] + lap["avg_fractional_cadence"]
        assert 2 * avg == pytest.approx(sum(spms) / len(spms), abs=0.02)
        assert 2 * lap["max_running_cadence"] == max(spms) // 2 * 2


def test_fit_session_and_activity_messages(run, tmp_path):
    header, events, session = run
    msgs = fit_messages(export.export_bytes(header, events, "fit"), tmp_path)
    assert msgs["file_id"][0]["type"] == "activity"
    (s,) = msgs["session"]
    assert s["sport"] == "running" and s["num_laps"] == 17 and s["first_lap_index"] == 0
    assert s["total_elapsed_time"] == pytest.approx(session.end_ms / 1000)
    assert s["total_timer_time"] == pytest.approx((session.end_ms - session.paused_ms) / 1000)
    (a,) = msgs["activity"]
    assert a["num_sessions"] == 1
    timers = [(e["event_type"]) for e in msgs["event"] if e["event"] == "timer"]
    assert timers == ["start", "stop_all", "start", "stop_all"]


def test_tcx_has_laps_and_run_cadence(run):
    header, events, session = run
    root = ET.fromstring(export.export_bytes(header, events, "tcx"))
    ns = {"t": export.TCX_NS, "x": export.TCX_EXT}
    laps = root.findall(".//t:Lap", ns)
    assert len(laps) == len(session.steps)
    for lap, step in zip(laps, session.steps):
        assert float(lap.find("t:TotalTimeSeconds", ns).text) == pytest.approx(step.timer_ms / 1000)
        assert lap.find("t:TriggerMethod", ns).text == ("Manual" if step.reason == "tap" else "Time")
    cadences = [int(e.text) for e in root.findall(".//x:RunCadence", ns)]
    assert cadences == [spm // 2 for _t, spm, _g in session.ticks]


def test_csv_has_a_row_per_step_and_per_rep(run):
    header, events, session = run
    rows = list(csv.DictReader(io.StringIO(export.export_bytes(header, events, "csv").decode())))
    steps = [r for r in rows if r["row"] == "step"]
    reps = [r for r in rows if r["row"] == "rep"]
    assert [r["name"] for r in steps] == [s.name for s in session.steps]
    assert len(reps) == 6
    for row, rep in zip(reps, session.reps):
        assert float(row["duration_s"]) == rep["duration_ms"] / 1000
        assert float(row["cadence_spm"]) == pytest.approx(rep["cadence_spm"], abs=0.001)
        assert float(row["peak_g"]) == pytest.approx(rep["peak_g"])


def test_json_export_reads_back_as_the_same_session(run, tmp_path):
    header, events, _session = run
    path = tmp_path / "s.json"
    path.write_bytes(export.export_bytes(header, events, "json"))
    assert load_session(path) == (header, events)


def test_plan_as_fit_workout_keeps_the_repeat_block_and_open_steps_for_taps(tmp_path):
    name, steps = planmod.parse(DEFAULT_PLAN)
    data = export_fit.workout_bytes(name, steps, datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    msgs = fit_messages(data, tmp_path)
    assert msgs["file_id"][0]["type"] == "workout"
    assert msgs["workout"][0]["wkt_name"] == "Descending Sprints"
    wsteps = msgs["workout_step"]
    assert msgs["workout"][0]["num_valid_steps"] == len(wsteps) == 8     # not the 17 run
    assert [w["message_index"] for w in wsteps] == list(range(8))
    assert [w.get("wkt_step_name") for w in wsteps] == [
        "Easy Jog", "Dynamic Stretches", "Sprint Setup", "Sprint 80%", "Walk Back Recovery", None,
        "Easy Jog or Walk", "Static Stretching"]
    repeat = wsteps[5]
    assert repeat["duration_type"] == "repeat_until_steps_cmplt"
    assert repeat["duration_step"] == 3 and repeat["repeat_steps"] == 6      # back to Sprint, 6 times
    by_name = {s["name"]: s for s in steps}
    for w in wsteps[:5] + wsteps[6:]:
        s = by_name[w["wkt_step_name"].replace(" 80%", "")]
        if s["kind"] in ("open", "sprint"):
            assert w["duration_type"] == "open"
        else:
            assert w["duration_type"] == "time"
            limit = s["duration_ms"] if s["kind"] == "timed" else s["max_ms"]
            assert w["duration_time"] == limit / 1000
        note = w["notes"]
        whole = " ".join(s["note"].split())
        assert note == whole or (note.endswith("\u2026") and (whole + " ").startswith(note[:-1] + " ")), \
            "cut mid-word: %r" % note
    assert [w["intensity"] for w in wsteps if "intensity" in w] == [
        "warmup", "warmup", "active", "active", "recovery", "cooldown", "cooldown"]


def test_notes_are_cut_at_a_word_boundary():
    assert export_fit.clip_words("Run downhill at 80% of your maximal effort", 20, "~") == "Run downhill at 80%~"
    assert export_fit.clip_words("short note", 20) == "short note"
    # One word longer than the field: cut at a character, never inside one.
    assert export_fit.clip_words("Überlanges-Wort", 10) == "Überlange"
    assert export_fit.clip_words("Übe", 2) == "Ü"


def garmin_sdk_read(data):
    """Garmin's own FIT SDK decoder: the file is FIT, its CRC holds, it reads without errors."""
    from garmin_fit_sdk import Decoder, Stream
    assert Decoder(Stream.from_byte_array(bytearray(data))).is_fit()
    assert Decoder(Stream.from_byte_array(bytearray(data))).check_integrity()
    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    assert errors == []
    return messages


def test_garmin_sdk_reads_the_workout():
    name, steps = planmod.parse(DEFAULT_PLAN)
    msgs = garmin_sdk_read(export_fit.workout_bytes(name, steps, datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)))
    wsteps = msgs["workout_step_mesgs"]
    assert len(wsteps) == 8 == msgs["workout_mesgs"][0]["num_valid_steps"]
    assert wsteps[5]["duration_type"] == "repeat_until_steps_cmplt"
    assert wsteps[5]["duration_step"] == 3 and wsteps[5]["repeat_steps"] == 6


def test_garmin_sdk_reads_the_activity_with_device_info_and_local_time(run):
    header, events, session = run
    header = dict(header, device_id="sw-8bfd7142", fw="0.1.0")
    msgs = garmin_sdk_read(export.export_bytes(header, events, "fit"))
    (file_id,) = msgs["file_id_mesgs"]
    (device,) = msgs["device_info_mesgs"]
    assert file_id["serial_number"] == device["serial_number"] == 0x8bfd7142
    assert device["device_index"] == "creator" or device["device_index"] == 0
    assert device["software_version"] == pytest.approx(0.1)
    (activity,) = msgs["activity_mesgs"]
    end = activity["timestamp"]
    offset = datetime.datetime.fromtimestamp(header["wall_s"], datetime.timezone.utc).astimezone().utcoffset()
    fit_epoch = datetime.datetime(1989, 12, 31, tzinfo=datetime.timezone.utc)
    assert activity["local_timestamp"] == int((end - fit_epoch + offset).total_seconds())
    assert len(msgs["lap_mesgs"]) == 17 and len(msgs["session_mesgs"]) == 1


def test_each_device_has_its_own_serial_number():
    assert export_fit.serial_number({"device_id": "sw-0000abcd"}) == 0xabcd
    assert export_fit.serial_number({"device_id": "sw-12345678"}) != export_fit.serial_number({"device_id": "sw-87654321"})
    assert export_fit.serial_number({}) == export_fit.SERIAL
    odd = export_fit.serial_number({"device_id": "my watch"})
    assert 0 < odd < 0xFFFFFFFF and odd == export_fit.serial_number({"device_id": "my watch"})


@pytest.fixture(scope="module")
def hill(tmp_path_factory):
    """SHORT_PLAN whose sprints are 120 m long: 3 reps of 10 s, one skipped."""
    import copy
    from sessions import short_session
    folder = tmp_path_factory.mktemp("hill")
    header, events = short_session(folder, 3, 1790000000, skip_rep=2)
    for _t, ev, f in events:             # as the engine logs it from the plan's distance_m
        if ev == "step_start" and f.get("kind") == "sprint":
            f["distance_m"] = 120
    return header, events, Session(header, copy.deepcopy(events))


def test_laps_get_distance_and_pace_in_fit_tcx_and_csv(hill, tmp_path):
    header, events, session = hill
    sprints = [s for s in session.steps if s.kind == "sprint"]
    assert [s.reason for s in sprints][1] == "skipped"
    run_s = {r["rep"]: r["duration_ms"] / 1000 for r in session.reps if r.get("reason") != "skipped"}
    msgs = fit_messages(export.export_bytes(header, events, "fit"), tmp_path)
    laps = msgs["lap"]
    dist = [lap.get("total_distance") for lap in laps]
    sprint_pos = [i for i, s in enumerate(session.steps) if s.kind == "sprint"]
    assert [dist[i] for i in sprint_pos] == [120, None, 120]          # the skipped one ran nothing
    assert all(d is None for i, d in enumerate(dist) if i not in sprint_pos)
    for i, rep_no in ((sprint_pos[0], 1), (sprint_pos[2], 3)):
        assert laps[i]["avg_speed"] == pytest.approx(120 / run_s[rep_no], abs=0.002)
    assert msgs["session"][0]["total_distance"] == pytest.approx(240)
    record_d = [r["distance"] for r in msgs["record"] if "distance" in r]
    assert record_d == sorted(record_d) and record_d[-1] == pytest.approx(240)
    garmin_sdk_read(export.export_bytes(header, events, "fit"))
    # TCX: lap distances, cumulative track distance
    root = ET.fromstring(export.export_bytes(header, events, "tcx"))
    ns = {"t": export.TCX_NS, "x": export.TCX_EXT}
    tcx = [float(lap.find("t:DistanceMeters", ns).text) for lap in root.findall(".//t:Lap", ns)]
    assert [tcx[i] for i in sprint_pos] == [120, 0, 120] and sum(tcx) == 240
    track = [float(e.text) for e in root.findall(".//t:Trackpoint/t:DistanceMeters", ns)]
    assert track == sorted(track) and track[-1] == pytest.approx(240)
    # CSV: distance and pace (seconds per km of running time) on sprint steps and reps
    rows = list(csv.DictReader(io.StringIO(export.export_bytes(header, events, "csv").decode())))
    reps = [r for r in rows if r["row"] == "rep"]
    done = [r for r in reps if r["reason"] != "skipped"]
    assert [r["distance_m"] for r in done] == ["120.0", "120.0"]
    for r in done:
        assert float(r["pace_s_per_km"]) == pytest.approx(float(r["duration_s"]) / 120 * 1000, abs=0.1)
    assert [r["distance_m"] for r in reps if r["reason"] == "skipped"] == [""]


def test_a_session_whose_clock_was_never_set_asks_for_its_start(tmp_path, capsys):
    from host_tools.sim import presses_from_args, run_sim
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(SHORT_PLAN))
    run_sim(tmp_path / "sim", plan=plan, presses=presses_from_args("35,40,50,65,70,80,95,100,110", "", ""),
            runtime="cpython", wall_s=None)
    out = tmp_path / "s.fit"
    assert cli.main(["export", str(tmp_path / "sim"), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "clock was not set" in err and "--start" in err and not out.exists()
    assert cli.main(["export", str(tmp_path / "sim"), "--format", "csv", "--out", str(tmp_path / "s.csv")]) == 0
    assert cli.main(["export", str(tmp_path / "sim"), "--out", str(out), "--start", "2026-05-01T07:30:00+02:00"]) == 0
    laps = fit_messages(out.read_bytes(), tmp_path)["lap"]
    assert laps[0]["start_time"] == datetime.datetime(2026, 5, 1, 5, 30, tzinfo=datetime.timezone.utc)
    assert cli.main(["export", str(tmp_path / "sim"), "--out", str(out), "--start", "file"]) == 0


def test_a_simulated_session_has_its_clock_set_to_when_it_ran(tmp_path):
    import time
    from host_tools.sim import presses_from_args, run_sim
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(SHORT_PLAN))
    before = time.time()
    run_sim(tmp_path / "sim", plan=plan, presses=presses_from_args("35,40", "", ""), runtime="cpython")
    header, _events = load_session(tmp_path / "sim")
    assert header["clock_set"] and before - 1 <= header["wall_s"] <= time.time() + 1



def test_cli_exports_a_sim_folder_and_a_plan(tmp_path, capsys):
    from host_tools.sim import presses_from_args, run_sim
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(SHORT_PLAN))
    run_sim(tmp_path / "sim", plan=plan, presses=presses_from_args("35,40,50,65,70,80,95,100,110", "", ""),
            runtime="cpython")
    for fmt in export.FORMATS:
        assert cli.main(["export", str(tmp_path / "sim"), "--format", fmt]) == 0
    msgs = fit_messages((tmp_path / "sim" / "session.fit").read_bytes(), tmp_path)
    assert [lap["wkt_step_index"] for lap in msgs["lap"]] == [0, 1, 2, 3, 2, 3, 2, 3, 5]
    assert cli.main(["export-plan", str(plan), "--out", str(tmp_path / "w.fit")]) == 0
    assert "GARMIN/NewFiles" in capsys.readouterr().out
    # Jog, Find hill, Rep, Jog back, repeat x3, Walk
    assert fit_messages((tmp_path / "w.fit").read_bytes(), tmp_path)["workout"][0]["num_valid_steps"] == 6
    assert cli.main(["export", str(tmp_path / "nothing-here")]) == 1
    assert "no session" in capsys.readouterr().err


def test_a_sim_folder_exports_the_log_the_board_wrote(tmp_path):
    """The simulated board's session log decodes to the very events the app emitted."""
    from host_tools.sim import DEMO_TAPS, presses_from_args, run_sim
    run_sim(tmp_path / "sim", presses=presses_from_args(DEMO_TAPS, "1900:1500,1960:1500", ""),
            runtime="cpython")
    logs = list((tmp_path / "sim").glob("session-*.swlog"))
    assert len(logs) == 1
    header, events = load_session(tmp_path / "sim")
    assert header["plan"] == "Descending Sprints" and header["source"] == str(logs[0])
    assert events == load_session(tmp_path / "sim" / "events.jsonl")[1]
    msgs = fit_messages(export.export_bytes(header, events, "fit"), tmp_path)
    assert len(msgs["lap"]) == 17
    assert msgs["session"][0]["total_elapsed_time"] - msgs["session"][0]["total_timer_time"] \
        == pytest.approx(60, abs=1)


def test_a_damaged_log_is_refused_with_its_name(tmp_path, capsys):
    bad = tmp_path / "session-0009.swlog"
    bad.write_bytes(b"\x00garbage" * 10)
    assert cli.main(["export", str(bad), "--format", "csv"]) == 1
    assert "session-0009.swlog is not a readable session log" in capsys.readouterr().err


def test_stored_sessions_are_exported_and_plotted_by_id(tmp_path, capsys):
    """Sessions synced into the database are found by ``ID`` or ``DEVICE:ID``."""
    sessiondb = pytest.importorskip("host_tools.sessiondb")   # arrives with BLE sync
    from swcore.logformat import session_digest
    from host_tools.sim import DEMO_TAPS, presses_from_args, run_sim
    run_sim(tmp_path / "sim", presses=presses_from_args(DEMO_TAPS, "", ""), runtime="cpython")
    data = next((tmp_path / "sim").glob("session-*.swlog")).read_bytes()
    db_path = tmp_path / "sessions.db"
    db = sessiondb.SessionDB(db_path)
    for dev in ("sw-aaaa", "sw-bbbb"):
        db.store(dev, 7, session_digest(data), data, {"plan": "Descending Sprints"}, 1790000000)
    db.store("sw-aaaa", 8, session_digest(data), data, {"plan": "Descending Sprints"}, 1790086400)
    db.close()
    out = tmp_path / "s.fit"
    assert cli.main(["export", "8", "--db", str(db_path), "--out", str(out)]) == 0
    assert len(fit_messages(out.read_bytes(), tmp_path)["lap"]) == 17
    assert cli.main(["export", "7", "--db", str(db_path), "--out", str(out)]) == 1
    assert "give DEVICE:7" in capsys.readouterr().err
    assert cli.main(["export", "sw-bbbb:7", "--db", str(db_path), "--out", str(out)]) == 0
    assert cli.main(["plot", "--progress", "--db", str(db_path), "--out", str(tmp_path / "p.png")]) == 0
    assert cli.main(["next", "--db", str(db_path)]) == 0
    assert "last session" in capsys.readouterr().out


def test_demo_run_with_motion_puts_its_cadence_on_the_sprint_laps(tmp_path):
    """The composed demo (real recordings): laps carry what the motion pipeline measured."""
    from host_tools import compose
    from host_tools.sim import demo_session, presses_from_args, run_sim
    if not compose.TRACES_DIR.is_dir():
        pytest.skip("recordings not available")
    trace, taps = demo_session(tmp_path, 50)
    run_sim(tmp_path / "sim", trace=trace, presses=presses_from_args(taps, "", ""), runtime="cpython")
    header, events = load_session(tmp_path / "sim")
    msgs = fit_messages(export.export_bytes(header, events, "fit"), tmp_path)
    reps = [f for _t, ev, f in events if ev == "rep"]
    assert len(reps) == 6 and all(r.get("cadence_spm") for r in reps)
    sprint_laps = [lap for lap in msgs["lap"] if "avg_running_cadence" in lap]
    assert len(sprint_laps) == 6
    ticks = [(t, f["cadence_spm"]) for t, ev, f in events if ev == "sprint_tick"]
    for lap, rep in zip(sprint_laps, reps):
        if ticks:
            in_lap = [c for t, c in ticks if rep["start_ms"] <= t <= rep["start_ms"] + rep["duration_ms"]]
            expected = sum(in_lap) / len(in_lap)
        else:
            expected = rep["cadence_spm"]
        assert 2 * (lap["avg_running_cadence"] + lap["avg_fractional_cadence"]) == pytest.approx(expected, abs=0.02)
        assert lap["total_strides"] == rep["steps"] // 2
        assert lap["lap_trigger"] == ("time" if rep["reason"] in ("motion", "max") else "manual")
