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
    assert [lap["wkt_step_index"] for lap in laps] == [s.index for s in session.steps]
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


def test_plan_as_fit_workout_with_open_steps_for_taps(tmp_path):
    name, steps = planmod.parse(DEFAULT_PLAN)
    data = export_fit.workout_bytes(name, steps, datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    msgs = fit_messages(data, tmp_path)
    assert msgs["file_id"][0]["type"] == "workout"
    assert msgs["workout"][0]["wkt_name"] == "Descending Sprints"
    assert msgs["workout"][0]["num_valid_steps"] == len(steps)
    wsteps = msgs["workout_step"]
    assert [w["wkt_step_name"] for w in wsteps] == [s["name"] for s in steps]
    for w, s in zip(wsteps, steps):
        if s["kind"] in ("open", "sprint"):
            assert w["duration_type"] == "open"
        else:
            assert w["duration_type"] == "time"
            limit = s["duration_ms"] if s["kind"] == "timed" else s["max_ms"]
            assert w["duration_time"] == limit / 1000


def test_cli_exports_a_sim_folder_and_a_plan(tmp_path, capsys):
    from host_tools.sim import presses_from_args, run_sim
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(SHORT_PLAN))
    run_sim(tmp_path / "sim", plan=plan, presses=presses_from_args("35,40,50,65,70,80,95,100,110", "", ""),
            runtime="cpython")
    for fmt in export.FORMATS:
        assert cli.main(["export", str(tmp_path / "sim"), "--format", fmt]) == 0
    msgs = fit_messages((tmp_path / "sim" / "session.fit").read_bytes(), tmp_path)
    assert [lap["wkt_step_index"] for lap in msgs["lap"]] == list(range(9))
    assert cli.main(["export-plan", str(plan), "--out", str(tmp_path / "w.fit")]) == 0
    assert fit_messages((tmp_path / "w.fit").read_bytes(), tmp_path)["workout"][0]["num_valid_steps"] == 9
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
