"""The form-drop guard on whole composed sessions, run by the firmware on the unix port.

One runner on one slope (host_tools.fatigue): with the fade, later reps lose cadence
and take longer and the guard says so; the same session without the fade raises
nothing. Seeds other than the demo's show the figures are not tuned to one session.
"""
import json

import pytest

from host_tools import cli, compose, fatigue
from host_tools.sim import presses_from_args, run_sim

needs_traces = pytest.mark.skipif(not compose.TRACES_DIR.is_dir(), reason="needs ../shared/traces")


def _events(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@needs_traces
def test_sim_demo_fatigue_logs_form_drops_and_the_end_the_set_offer_and_steady_logs_none(tmp_path, capsys):
    assert cli.main(["sim", "--demo", "--fatigue", "--out", str(tmp_path / "fade")]) == 0
    out = capsys.readouterr().out
    events = _events(tmp_path / "fade" / "events.jsonl")
    drops = [e for e in events if e["event"] == "form_drop"]
    offers = [e for e in events if e["event"] == "end_set_offer"]
    assert len(drops) >= 2 and all(e["cadence_pct"] <= -8 for e in drops)
    assert len(offers) == 1 and offers[0]["in_a_row"] == 2
    cues = [e["pattern"] for e in events if e["event"] == "cue"]
    assert "ease_off" in cues and "end_set_offer" in cues
    assert "end the set?" in out and "form   rep" in out
    assert cli.main(["sim", "--demo", "--steady", "--out", str(tmp_path / "hold"), "--quiet"]) == 0
    events = _events(tmp_path / "hold" / "events.jsonl")
    assert len([e for e in events if e["event"] == "rep" and e["motion"]]) == 6
    assert not [e for e in events if e["event"] in ("form_drop", "end_set_offer")]


@needs_traces
@pytest.mark.parametrize("seed", [3, 4])
def test_other_seeds_fade_and_hold_alike(tmp_path, seed):
    for fade in (1.0, 0.0):
        trace = tmp_path / ("s%d-%g.csv" % (seed, fade))
        labels = fatigue.compose_fading_to(trace, seed, 50, fade=fade)
        taps = ",".join("%.2f" % t for t in labels["taps_s"])
        events = run_sim(tmp_path / ("out%g" % fade), None, trace, presses_from_args(taps, "", ""), 50)
        drops = [e["rep"] for e in events if e["event"] == "form_drop"]
        if fade:
            assert len(drops) >= 2 and min(drops) >= 3
            assert [e["rep"] for e in events if e["event"] == "end_set_offer"]
        else:
            assert drops == []
