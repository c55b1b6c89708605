"""Raw capture end to end: the simulated board records a session with ``"capture": true``,
``sprintwatch log export-trace`` gives back the very samples it was fed, with the taps."""
import json

import pytest

from host_tools import cli, compose
from host_tools.analyze import trace_samples
from host_tools.sim import run_sim

pytestmark = pytest.mark.skipif(not compose.TRACES_DIR.is_dir(), reason="recordings not found")

CAPTURE_PLAN = {"name": "Capture sprints", "capture": True, "sets": [{"name": "Hill", "steps": [
    {"name": "Sprint Setup", "kind": "open"},
    {"name": "Sprint", "kind": "sprint", "max_s": 45},
    {"name": "Walk Back Recovery", "kind": "recovery", "min_s": 60, "max_s": 90}]}]}


def test_a_capture_session_exports_as_a_trace_with_its_taps(tmp_path, capsys):
    trace = tmp_path / "s.csv"
    labels = compose.compose_to(trace, seed=5, sprints=1, warmup=False, variant="walkoff")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(CAPTURE_PLAN))
    presses = [[round(t * 1000), 120] for t in labels["taps_s"]]
    events = run_sim(tmp_path / "out", plan, trace, presses, 50)
    assert [e for e in events if e["event"] == "rep"][0]["reason"] == "motion"
    logs = sorted((tmp_path / "out").glob("*.swlog"))
    assert len(logs) == 1
    out = tmp_path / "captured.csv"
    assert cli.main(["log", "export-trace", str(logs[0]), str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "t_ms,ax,ay,az"
    rows = [tuple(int(v) for v in line.split(",")) for line in lines[1:]]
    fed = list(trace_samples(trace, 50))
    assert rows[-1][0] / 1000 >= labels["reps"][0]["end_s"] + 60    # through the walk back to the end
    assert [r[1:] for r in rows] == [tuple(s) for s in fed[:len(rows)]]
    assert [r[0] for r in rows[:3]] == [0, 20, 40]
    truth = json.loads((tmp_path / "captured.truth.json").read_text())
    assert truth["rate_hz"] == 50 and truth["samples"] == len(rows)
    assert len(truth["taps_s"]) == len(labels["taps_s"])
    for got, want in zip(truth["taps_s"], labels["taps_s"]):
        assert abs(got - want) <= 0.05, (truth["taps_s"], labels["taps_s"])
    assert len(truth["reps"]) == 1
    assert abs(truth["reps"][0]["end_s"] - labels["reps"][0]["end_s"]) <= 1.0
    # and the trace reads like any other: analyze finds the rep in it
    capsys.readouterr()
    assert cli.main(["analyze", str(out), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)["reps"]
    assert len(found) == 1 and abs(found[0]["start_s"] - labels["reps"][0]["start_s"]) <= 0.5


def test_export_trace_refuses_a_session_without_capture(tmp_path, capsys):
    from swcore import logformat
    path = tmp_path / "plain.swlog"
    data = logformat.encode_header(1, 1, "Plain", 0, "0.1.0") + logformat.encode_record(
        0, "session_end", {"reps": 0, "paused_ms": 0})
    path.write_bytes(data)
    assert cli.main(["log", "export-trace", str(path), str(tmp_path / "x.csv")]) == 2
    assert "no raw capture" in capsys.readouterr().err
