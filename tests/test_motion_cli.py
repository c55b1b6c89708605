"""Motion on the laptop: ``sprintwatch analyze`` and the simulator on composed sessions."""
import json

import pytest

from host_tools import cli, compose
from host_tools.sim import run_sim

pytestmark = pytest.mark.skipif(not compose.TRACES_DIR.is_dir(), reason="recordings not found")

SHORT_PLAN = {"name": "Two sprints", "sets": [{"name": "Hill", "steps": [
    {"name": "Sprint Setup", "kind": "open", "measure": "slope"},
    {"repeat": 2, "steps": [
        {"name": "Sprint", "kind": "sprint", "max_s": 45, "cadence_floor_spm": 150},
        {"name": "Walk Back Recovery", "kind": "recovery", "min_s": 120, "max_s": 180}]}]}]}


def _analyze_json(path, capsys, *args):
    """``sprintwatch analyze PATH --json`` (succeeding), its output parsed."""
    assert cli.main(["analyze", str(path), "--json"] + list(args)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    path = tmp_path_factory.mktemp("session") / "s.csv"
    labels = compose.compose_to(path, seed=3, sprints=2, warmup=False)
    return path, labels


def test_composing_is_repeatable_and_labelled(session, tmp_path):
    path, labels = session
    again = compose.compose_to(tmp_path / "again.csv", seed=3, sprints=2, warmup=False)
    assert again == labels
    assert (tmp_path / "again.csv").read_text() == path.read_text()
    assert [s["label"] for s in labels["segments"]].count("run") == 2
    assert len(labels["taps_s"]) == 3 and len(labels["reps"]) == 2


def test_analyze_finds_each_rep_within_a_second(session, capsys):
    path, labels = session
    assert cli.main(["analyze", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"steps", "reps", "activity"}
    assert len(out["reps"]) == 2
    for found, true in zip(out["reps"], labels["reps"]):
        assert abs(found["start_s"] - true["start_s"]) <= 1.0, (found, true)
        assert abs(found["end_s"] - true["end_s"]) <= 1.0, (found, true)
        assert found["cadence_spm"] >= 140 and found["peak_g"] >= 2 and found["steps"] > 20
    assert {a["state"] for a in out["activity"]} == {"still", "walk", "run"}
    runs = [a for a in out["activity"] if a["state"] == "run"]
    assert len(runs) == 2


@pytest.mark.parametrize("variant", compose.VARIANTS)
def test_every_composed_ending_gives_each_rep_with_its_edges(variant, tmp_path, capsys):
    path = tmp_path / ("%s.csv" % variant)
    labels = compose.compose_to(path, seed=11, sprints=2, warmup=False, variant=variant)
    assert [r["variant"] for r in labels["reps"]] == [variant, variant]
    assert cli.main(["analyze", str(path), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)["reps"]
    limit = 2.0 if variant == "jogoff" else 1.0
    assert len(found) == 2, (found, labels["reps"])
    for f, true in zip(found, labels["reps"]):
        assert abs(f["start_s"] - true["start_s"]) <= 1.0, (f, true)
        assert abs(f["end_s"] - true["end_s"]) <= limit, (f, true)
    if variant == "fast":
        assert all(r["cadence_spm"] >= 185 for r in found), found
    if variant == "jogoff":
        jogs = [s for s in labels["segments"] if s["label"] == "jog"]
        assert len(jogs) == 2 and all(8 <= s["end_s"] - s["start_s"] <= 20 for s in jogs)


def test_a_sprint_from_standing_starts_at_its_first_landing_at_25_hz(tmp_path, capsys):
    # seed 3's first fast rep at 25 Hz: a hard first landing, then a step too weak to see; the
    # first landing came after a stop, so it was never counted among the run's hard ones and
    # the rep started 0.8 s late
    path = tmp_path / "fast.csv"
    labels = compose.compose_to(path, seed=3, rate=25, sprints=2, warmup=False, variant="fast")
    found = _analyze_json(path, capsys, "--rate", "25")["reps"]
    assert len(found) == 2
    for f, true in zip(found, labels["reps"]):
        assert abs(f["start_s"] - true["start_s"]) <= 0.5, (f, true)


def test_run_stretches_hold_no_stop_of_the_25_minute_run():
    rate = 25
    strides = compose.ankle_strides(rate)
    segments = compose.run_segments(rate)
    assert {label for _, _, label in segments} == {"run", "stop"}
    for a, b, label in segments:
        inside = [s for s in strides if a <= s <= b]
        if label == "run":
            gaps = [y - x for x, y in zip(inside, inside[1:])]
            assert max(gaps) <= 2 * compose.MAX_STRIDE_MS * rate // 1000, (a, b, max(gaps))
    stops = [b - a for a, b, label in segments if label == "stop"]
    assert max(stops) >= 30 * rate          # the run has real stops, and they are labelled so


def test_analyze_prints_a_table_without_json(session, capsys):
    path, _ = session
    assert cli.main(["analyze", str(path)]) == 0
    out = capsys.readouterr().out
    assert "reps (runs):" in out and "activity:" in out and " run" in out


def test_analyze_counts_time_from_the_first_sample(session, tmp_path, capsys):
    """A recording whose clock starts elsewhere (a phone's epoch milliseconds) is the same session,
    not hours of the first sample repeated."""
    path, _ = session
    plain = _analyze_json(path, capsys)
    lines = path.read_text().splitlines()
    shifted = tmp_path / "epoch.csv"
    shifted.write_text("\n".join([lines[0]] + ["%d,%s" % (1764672000000 + int(t), rest)
                                                for t, rest in (l.split(",", 1) for l in lines[1:])]) + "\n")
    assert _analyze_json(shifted, capsys) == plain


def test_analyze_reads_a_spreadsheet_export(session, tmp_path, capsys):
    """A byte-order mark and decimal numbers (981.0 mg, 20.0 ms) read as the integers they are."""
    path, _ = session
    plain = _analyze_json(path, capsys)
    lines = path.read_text().splitlines()
    exported = tmp_path / "export.csv"
    exported.write_text("\ufeff" + lines[0] + "\r\n" + "".join(
        ",".join("%s.0" % v for v in l.split(",")) + "\r\n" for l in lines[1:]), encoding="utf-8")
    assert _analyze_json(exported, capsys) == plain


def test_analyze_names_a_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("time,x,y,z\n0,1,2,3\n")
    assert cli.main(["analyze", str(bad)]) == 2
    assert "bad.csv" in capsys.readouterr().err
    for line in ("20,1,two,3", "20,1,nan,3", "100000000000,1,2,3"):   # (the last: a clock jump)
        bad.write_text("t_ms,ax,ay,az\n0,1,2,3\n%s\n" % line)
        assert cli.main(["analyze", str(bad)]) == 2
        assert "line 3" in capsys.readouterr().err
    assert cli.main(["analyze", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv" in capsys.readouterr().err


def test_simulator_logs_reps_with_metrics_ended_by_motion(session, tmp_path):
    path, labels = session
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(SHORT_PLAN))
    presses = [[round(t * 1000), 120] for t in labels["taps_s"]]
    events = run_sim(tmp_path / "out", plan, path, presses, 50)
    reps = [e for e in events if e["event"] == "rep"]
    assert len(reps) == 2
    for rep, true in zip(reps, labels["reps"]):
        assert rep["reason"] == "motion" and rep["motion"] is True
        assert abs(rep["reaction_ms"] / 1000 - (true["start_s"] - true["go_s"])) <= 1.0
        assert abs(rep["t_ms"] / 1000 - true["end_s"]) <= 1.0
        for k in ("steps", "cadence_spm", "peak_cadence_spm", "peak_g"):
            assert k in rep
    assert events[-1]["event"] == "session_end" and events[-1]["reps_moving"] == 2
