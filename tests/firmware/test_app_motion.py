"""The app with a motion pipeline: real runs end sprints at the right moment, with figures."""
import json

from expect import Collector
from synth import Signal
from app import App
from swcore import plan
from swcore.motion import MotionPipeline

RATE = 50
PLAN = json.dumps({"name": "T", "sets": [{"name": "S", "steps": [
    {"name": "Sprint", "kind": "sprint", "max_s": 45, "cadence_floor_spm": 175},
    {"name": "Walk Back", "kind": "recovery", "min_s": 60, "max_s": 90}]}]})


class Output:
    def apply(self, t, tone_hz, motor):
        pass


class Board:
    output = Output()


def _run(sig, taps_ms, motion=True):
    name, steps = plan.parse(PLAN)
    log = Collector()
    app = App(Board(), name, steps, [log], MotionPipeline(RATE) if motion else None)
    app.start(0)
    presses = []
    for t in taps_ms:
        presses.append((t, True))
        presses.append((t + 120, False))
    pi = 0
    for i in range(sig.samples()):
        t = i * 1000 // RATE
        while pi < len(presses) and presses[pi][0] <= t:
            app.button(presses[pi][1], presses[pi][0])
            pi += 1
        app.sample(sig.data[3 * i], sig.data[3 * i + 1], sig.data[3 * i + 2], t)
        app.service(t)
    return app, log


def test_the_run_ends_the_sprint_where_the_runner_stopped():
    sig = Signal(RATE)
    sig.still(5)
    tap = sig.now_ms()
    sig.still(0.8)
    start = sig.steps(20, 180, 2500)
    stop = sig.now_ms()
    sig.still(20)
    app, log = _run(sig, [tap])
    reps = log.of("rep")
    assert len(reps) == 1
    t, _, rep = reps[0]
    assert rep["reason"] == "motion" and rep["motion"] is True
    assert abs(t - stop) <= 1000, (t, stop)                 # timed to the stop, not its detection
    assert abs(rep["reaction_ms"] - (start - tap)) <= 500, rep
    assert abs(rep["steps"] - 60) <= 2 and abs(rep["cadence_spm"] - 180) <= 5, rep
    assert rep["peak_g"] >= 2.5
    walk = log.times("step_start", step="Walk Back")
    assert walk == [t]                                        # the walk back starts by itself
    assert not log.of("motion_no_tap")


def test_low_cadence_nudges_during_the_sprint():
    sig = Signal(RATE)
    sig.still(5)
    tap = sig.now_ms()
    sig.steps(25, 150, 2500)
    sig.still(10)
    app, log = _run(sig, [tap])
    nudges = [f for _, ev, f in log.events if ev == "cue" and f["pattern"] == "cadence_low"]
    assert len(nudges) == 1 and nudges[0]["cadence_spm"] < 175


def test_a_tap_without_a_run_is_logged_but_is_no_moving_rep():
    sig = Signal(RATE)
    sig.still(5)
    tap = sig.now_ms()
    sig.still(10)
    app, log = _run(sig, [tap, tap + 8000])
    t, _, rep = log.of("rep")[0]
    assert rep["reason"] == "tap" and rep["motion"] is False and "steps" not in rep
    assert t == tap + 8000


def test_a_run_without_a_tap_is_logged_not_taken_for_a_rep():
    sig = Signal(RATE)
    sig.still(5)
    sig.steps(15, 180, 2500)
    sig.still(5)
    app, log = _run(sig, [])
    assert len(log.of("motion_no_tap")) == 1
    assert log.of("rep") == [] and log.of("sprint_go") == []


def test_button_only_mode_still_runs_sprints():
    sig = Signal(RATE)
    sig.still(5)
    sig.steps(10, 180, 2500)
    sig.still(5)
    app, log = _run(sig, [3000, 12000], motion=False)
    t, _, rep = log.of("rep")[0]
    assert rep["reason"] == "tap" and t == 12000


def test_samples_through_the_app_allocate_nothing():
    try:
        import micropython
        lock = micropython.heap_lock
    except (ImportError, AttributeError):
        return   # CPython: checked on the MicroPython unix port
    sig = Signal(RATE)
    sig.still(3)
    sig.steps(20, 110, 500)                       # walking: steps, no run events
    name, steps = plan.parse(PLAN)
    app = App(Board(), name, steps, [Collector()], MotionPipeline(RATE))
    app.start(0)
    data = sig.data
    n = sig.samples()
    sample = app.sample
    lock()
    try:
        i = 0
        while i < n:
            sample(data[3 * i], data[3 * i + 1], data[3 * i + 2], i * 20)
            i += 1
    finally:
        micropython.heap_unlock()
    assert app.motion.steps >= 30
