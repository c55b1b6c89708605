"""``next`` builds slowly from what really happened; ``rate`` adds the runner's own answer."""
import datetime
import json

import pytest

from host_tools import cli, compose, fatigue
from host_tools.history import Summary
from host_tools.next_cmd import plan_next
from host_tools.session_model import Session
from host_tools.sessiondb import SessionDB
from host_tools.sim import presses_from_args, run_sim
from swcore import plan as planmod

from sessions import short_session

WALL = 1790000000                       # 2026-09-21
DAY = datetime.date(2026, 9, 21)


def _summary(tmp_path, reps=3, rating=None, edit=None, **kw):
    header, events = short_session(tmp_path / ("s%d-%s-%d" % (reps, rating, len(kw))), reps, WALL, **kw)
    if edit:
        events = edit(events)
    return Summary(Session(header, events), rating)


def _days(n):
    return DAY + datetime.timedelta(days=n)


def test_a_complete_session_with_ordinary_rep_to_rep_spread_adds_one(tmp_path):
    last = _summary(tmp_path, 3, spm=(160, 185))          # 5-8 % apart: what real reps look like
    reps, lines = plan_next([last], 6, _days(3))
    assert reps == 4 and "add one" in lines[-1]


def test_reps_where_nobody_ran_are_not_counted(tmp_path):
    def no_run_in_rep_2(events):
        return [(t, ev, dict(f, motion=False) if ev == "rep" and f["rep"] == 2 else f) for t, ev, f in events]
    last = _summary(tmp_path, 3, edit=no_run_in_rep_2)
    reps, lines = plan_next([last], 6, _days(3))
    assert reps == 2
    assert "2 of 3 sprints with a run (1 with no run seen: not counted)" in lines[0]


def test_form_drops_on_the_device_hold_the_volume_and_two_make_it_hard(tmp_path):
    def drops(*reps):
        def edit(events):
            out = list(events)
            for t, ev, f in events:
                if ev == "rep" and f["rep"] in reps:
                    out.append((t, "form_drop", {"rep": f["rep"], "signals": "cadence,duration"}))
            return sorted(out, key=lambda e: e[0])
        return edit
    one = _summary(tmp_path, 4, edit=drops(4))
    reps, lines = plan_next([one], 6, _days(3))
    assert reps == 4 and any("form dropped on rep 4" in x for x in lines)
    two = _summary(tmp_path, 4, edit=drops(3, 4))
    assert two.hard
    reps, lines = plan_next([two], 6, _days(3))
    assert reps == 3 and any("never two hard ones in a row" in x for x in lines)


def test_the_runners_answer_outweighs_the_figures(tmp_path):
    hard = _summary(tmp_path, 4, rating="hard")
    reps, lines = plan_next([hard], 6, _days(3))
    assert reps == 3 and "you rated it hard" in lines
    easy = _summary(tmp_path, 4, rating="easy")
    assert plan_next([easy], 6, _days(3))[0] == 5


def test_rest_and_breaks_between_sessions(tmp_path):
    last = _summary(tmp_path, 4)
    reps, lines = plan_next([last], 6, _days(1))
    assert reps == 4 and any("rest 2 days before adding volume" in x for x in lines)
    assert plan_next([last], 6, _days(20))[0] == 3       # two weeks off: one fewer
    assert plan_next([last], 6, _days(40))[0] == 3       # a month off: start low (half of 6)


def test_never_more_than_one_sprint_more_per_session(tmp_path):
    history = [_summary(tmp_path, 2, rating="easy")]
    reps = [plan_next(history, 6, _days(3))[0]]
    assert reps == [3]


@pytest.mark.skipif(not compose.TRACES_DIR.is_dir(), reason="needs ../shared/traces")
def test_next_over_a_synced_history_writes_a_plan_and_says_why(tmp_path, capsys):
    # The fading demo session, as `sprintwatch sync` stores it, synced on 2026-09-21.
    trace = tmp_path / "fade.csv"
    labels = fatigue.compose_fading_to(trace, 1, 50)
    taps = ",".join("%.2f" % t for t in labels["taps_s"])
    run_sim(tmp_path / "sim", None, trace, presses_from_args(taps, "", ""), 50)
    log = sorted((tmp_path / "sim").glob("session-*.swlog"))[-1]
    db_path = tmp_path / "sessions.db"
    db = SessionDB(db_path)
    db.store("dev1", 1, "d" * 64, log.read_bytes(), {}, WALL)
    db.close()
    ratings = tmp_path / "ratings.json"
    out = tmp_path / "next.json"
    args = ["next", "--db", str(db_path), "--ratings", str(ratings), "--today", "2026-09-24", "--write", str(out)]
    assert cli.main(args) == 0
    said = capsys.readouterr().out
    assert "form dropped on rep 4, 5, 6" in said
    assert "the last session was hard (form broke down)" in said
    assert "next session: 5 sprints of Descending Sprints" in said
    _name, steps = planmod.parse(out.read_text())
    assert sum(1 for s in steps if s["kind"] == "sprint") == 5
    # The runner says it felt ok: still held (form dropped), but not cut.
    assert cli.main(["rate", "dev1:1", "ok", "--db", str(db_path), "--ratings", str(ratings)]) == 0
    assert "rated ok" in capsys.readouterr().out
    assert list(json.loads(ratings.read_text()).values())[0]["rating"] == "ok"
    assert cli.main(args) == 0
    said = capsys.readouterr().out
    assert "you rated it ok" in said and "next session: 6 sprints" in said
    assert cli.main(["rate", "dev1:99", "ok", "--db", str(db_path), "--ratings", str(ratings)]) == 1


def _walk_session(day, skipped=False):
    events = [(0, "step_start", {"set": "Fast Walk Descents", "step": "Fast Walk Down", "kind": "timed", "index": 0}),
              (45000, "step_end", {"set": "Fast Walk Descents", "step": "Fast Walk Down", "kind": "timed",
                                   "index": 0, "reason": "skipped" if skipped else "time"}),
              (45000, "session_end", {"reps": 0, "paused_ms": 0})]
    return {"plan": "Downhill Fast Walk", "clock_set": True, "wall_s": WALL + day * 86400}, events


def test_the_walking_stage_names_the_next_stage_after_three_completed_sessions(tmp_path, capsys):
    hist = tmp_path / "walks"
    hist.mkdir()
    from host_tools import export
    for day in range(3):
        skipped = day == 1
        (hist / ("w%d.json" % day)).write_bytes(export.export_bytes(*_walk_session(day, skipped), "json"))
    args = ["next", "--plan", "beginner-walk", "--sessions", str(hist), "--ratings", str(tmp_path / "r.json")]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "2 Downhill Fast Walk sessions completed" in out and "the same again" in out
    (hist / "w3.json").write_bytes(export.export_bytes(*_walk_session(3), "json"))
    assert cli.main(args) == 0
    assert "ready for the next stage, sprintwatch next --plan beginner-short" in capsys.readouterr().out
