"""The session engine in virtual time: absolute deadlines, taps, pauses, skips, sprints."""
from expect import Collector
from swcore import plan
from swcore.default_plan import DEFAULT_PLAN
from swcore.engine import Engine, TAP, DOUBLE, LONG


def _engine(doc=None):
    _, steps = plan.parse(doc or DEFAULT_PLAN)
    sink = Collector()
    e = Engine(steps, sink)
    return e, sink


def _run_until(e, end, step_ms):
    """Tick at an awkward period, as a real loop might."""
    t = 0
    while t <= end and not e.done:
        e.tick(t)
        t += step_ms


def _starts(sink):
    return [(t, f["step"]) for t, ev, f in sink.events if ev == "step_start"]


def test_timed_steps_start_exactly_on_their_offsets_whatever_the_tick():
    e, sink = _engine()
    e.start(0)
    _run_until(e, 900500, 37)
    assert _starts(sink) == [(0, "Easy Jog"), (600000, "Dynamic Stretches"), (900000, "Sprint Setup")]
    ends = [(t, f["reason"]) for t, ev, f in sink.events if ev == "step_end"]
    assert ends == [(600000, "time"), (900000, "time")]


def test_countdown_cues_3_2_1_seconds_before_each_timed_step_ends():
    e, sink = _engine()
    e.start(0)
    _run_until(e, 900500, 13)
    countdown = [t for t, ev, f in sink.events if ev == "cue" and f["pattern"] == "countdown"]
    assert countdown == [597000, 598000, 599000, 897000, 898000, 899000]


def test_pause_shifts_every_later_deadline_by_the_paused_time():
    e, sink = _engine()
    e.start(0)
    _run_until(e, 100000, 20)
    e.gesture(LONG, 100000)
    for t in range(100000, 130000, 20):
        e.tick(t)
    assert _starts(sink) == [(0, "Easy Jog")]          # nothing moves while paused
    e.gesture(LONG, 130000)
    t = 130000
    while t < 940000:
        e.tick(t)
        t += 20
    assert _starts(sink)[1:] == [(630000, "Dynamic Stretches"), (930000, "Sprint Setup")]
    countdown = [t for t, ev, f in sink.events if ev == "cue" and f["pattern"] == "countdown"]
    assert countdown[:3] == [627000, 628000, 629000]
    assert sink.of("resume")[0][2]["paused_ms"] == 30000


def test_double_press_skips_the_current_step():
    e, sink = _engine()
    e.start(0)
    e.tick(5000)
    e.gesture(DOUBLE, 5000)
    assert _starts(sink) == [(0, "Easy Jog"), (5000, "Dynamic Stretches")]
    assert sink.of("step_end")[0][2]["reason"] == "skipped"
    e.tick(304999)
    assert len(_starts(sink)) == 2
    e.tick(305000)
    assert _starts(sink)[-1] == (305000, "Sprint Setup")


def test_sprint_waits_for_a_tap_then_ends_at_max_s():
    e, sink = _engine()
    e.start(0)
    e.gesture(DOUBLE, 1000)
    e.gesture(DOUBLE, 2000)           # skip the warm-up
    e.gesture(TAP, 3000)              # leave Sprint Setup
    assert e.step["kind"] == "sprint" and e.phase == "armed"
    e.tick(600000)                    # an armed sprint has no deadline
    assert e.step["kind"] == "sprint"
    e.gesture(TAP, 600000)
    assert sink.times("cue", pattern="sprint_go") == [600000]
    e.tick(644999)
    assert e.step["kind"] == "sprint"
    e.tick(646000)
    rep = sink.of("rep")[0]
    assert rep[0] == 645000 and rep[2]["reason"] == "max" and rep[2]["duration_ms"] == 45000
    assert rep[2]["motion"] is False  # a tap with no run behind it is flagged
    assert e.step["kind"] == "recovery" and e.step_start == 645000


def test_motion_ends_a_sprint_with_its_metrics_and_reaction_time():
    e, sink = _engine()
    e.start(0)
    e.gesture(DOUBLE, 1000)
    e.gesture(DOUBLE, 2000)
    e.gesture(TAP, 3000)
    e.gesture(TAP, 10000)
    e.motion_start(10400)
    e.tick(20000)
    e.motion_stop(26500, {"steps": 48, "cadence_spm": 180})
    rep = sink.of("rep")[0][2]
    assert rep["reason"] == "motion" and rep["duration_ms"] == 16500
    assert rep["reaction_ms"] == 400 and rep["steps"] == 48 and rep["motion"] is True
    assert sink.of("step_start")[-1][0] == 26500


def test_motion_without_a_tap_is_logged_not_taken_for_a_rep():
    e, sink = _engine()
    e.start(0)
    e.motion_start(5000)                # jogging in the warm-up: expected, not logged
    e.motion_stop(9000, {"steps": 10})
    assert sink.of("motion_no_tap") == []
    e.gesture(DOUBLE, 10000)
    e.gesture(DOUBLE, 11000)
    e.gesture(TAP, 12000)               # Sprint Setup done: sprint 1 waits for its tap
    e.motion_start(15000)               # ... but the runner runs without tapping
    e.motion_stop(30000, {"steps": 40})
    assert sink.of("rep") == []
    assert [t for t, _, f in sink.of("motion_no_tap")] == [15000]


def test_recovery_ready_cue_then_a_tap_starts_the_next_sprint():
    e, sink = _engine()
    e.start(0)
    e.gesture(DOUBLE, 1000)
    e.gesture(DOUBLE, 2000)
    e.gesture(TAP, 3000)
    e.gesture(TAP, 10000)
    e.gesture(TAP, 25000)             # sprint 1 ends by tap at 25 s
    assert e.step["kind"] == "recovery"
    e.tick(100000)
    e.gesture(TAP, 100000)            # too early: before min_s (120 s)
    assert e.step["kind"] == "recovery"
    assert sink.of("ignored")[-1][2]["why"] == "recovery not over"
    e.tick(145000)
    assert sink.times("cue", pattern="recovery_ready") == [145000]
    e.gesture(TAP, 150000)
    assert e.step["kind"] == "sprint" and e.phase == "running"
    assert sink.times("cue", pattern="sprint_go") == [10000, 150000]


def test_recovery_over_cue_at_max_s_arms_the_next_sprint():
    e, sink = _engine()
    e.start(0)
    e.gesture(DOUBLE, 1000)
    e.gesture(DOUBLE, 2000)
    e.gesture(TAP, 3000)
    e.gesture(TAP, 10000)
    e.gesture(TAP, 25000)
    e.tick(205000)
    assert sink.times("cue", pattern="recovery_over") == [205000]
    assert e.step["kind"] == "sprint" and e.phase == "armed" and e.step_start == 205000


def test_full_session_ends_with_done_cue_and_rep_count():
    e, sink = _engine()
    e.start(0)
    t = 0
    taps = [905000]
    # sprint go 5 s after arming, end by tap 15 s later, tap 125 s into each walk back
    go = 910000
    for _ in range(6):
        taps += [go, go + 15000]
        go += 15000 + 125000
    i = 0
    while not e.done and t < 4 * 3600000:
        while i < len(taps) and taps[i] <= t:
            e.gesture(TAP, taps[i])
            i += 1
        e.tick(t)
        t += 50
    assert e.done
    assert sink.of("session_end")[0][2]["reps"] == 6
    assert sink.times("cue", pattern="session_done") == [sink.of("session_end")[0][0]]
    # no tap after the last sprint: its walk back runs to max_s (180 s), then 15 min cool-down
    assert sink.of("session_end")[0][0] == taps[-1] + 180000 + 900000


def test_taps_during_a_timed_step_and_while_paused_change_nothing():
    e, sink = _engine()
    e.start(0)
    e.gesture(TAP, 1000)
    e.gesture(LONG, 2000)
    e.gesture(TAP, 3000)
    e.gesture(DOUBLE, 4000)
    e.gesture(LONG, 5000)
    assert e.index == 0
    assert [f["why"] for t, ev, f in sink.of("ignored")] == ["timed step", "paused", "paused"]


def test_an_hour_of_timed_steps_does_not_drift_by_a_millisecond():
    durations = [300.7, 299.3, 300.001, 299.999] * 3        # 60 minutes, awkward lengths
    doc = {"name": "Hour", "sets": [{"name": "All", "steps": [
        {"name": "S%d" % i, "kind": "timed", "duration_s": d} for i, d in enumerate(durations)]}]}
    e, sink = _engine(doc)
    e.start(0)
    t = 0
    seed = 12345
    while not e.done:
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        t += 1 + seed % 97                                    # a jittery loop: 1..97 ms
        e.tick(t)
    expected = []
    at = 0
    for d in durations:
        expected.append(at)
        at += int(d * 1000)
    assert [s for s, _ in _starts(sink)] == expected
    assert sink.of("session_end")[0][0] == at == 3600000


def test_a_sprint_steps_distance_goes_into_its_step_start():
    import json
    doc = json.dumps({"name": "Hill", "sets": [{"name": "Main", "steps": [
        {"name": "Jog", "kind": "timed", "duration_s": 5},
        {"name": "Hill", "kind": "sprint", "distance_m": 120}]}]})
    e, sink = _engine(doc)
    e.start(0)
    e.tick(5000)
    starts = sink.of("step_start")
    assert "distance_m" not in starts[0][2]
    assert starts[1][2]["distance_m"] == 120


def test_a_pause_during_a_sprint_keeps_the_logged_start_and_leaves_the_pause_out():
    e, sink = _engine()
    e.start(0)
    e.gesture(DOUBLE, 1000)
    e.gesture(DOUBLE, 2000)
    e.gesture(TAP, 3000)
    e.gesture(TAP, 910000)            # go at 910 s
    e.motion_start(910300)
    e.gesture(LONG, 915000)           # a 20 s pause 5 s into the sprint
    e.gesture(LONG, 935000)
    e.motion_stop(945000, {"steps": 60})
    rep = sink.of("rep")[0][2]
    assert rep["start_ms"] == 910000                  # not 930000
    assert rep["duration_ms"] == 15000 and rep["paused_ms"] == 20000
    assert rep["reaction_ms"] == 300
