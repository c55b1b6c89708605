"""Slope measurement for Sprint Setup: two readings turned 180° cancel the sensor's offset."""
import json

from expect import Collector, raises
from app import App
from swcore import plan, slope
from swcore.default_plan import DEFAULT_PLAN
from swcore.slope import SlopeMeter, FIRST, DONE, gradient_x10

RATE = 50
# a 7 % slope: sin = 0.0698, cos = 0.9976; the sensor reads 30, -20, 15 mg too much
OFFSET = (30, -20, 15)


def _lying(pct_x10, turned):
    # sin and cos of atan(pct/100) in milli-units, by integer maths (no math module needed)
    t = pct_x10                           # tan in thousandths
    norm = (1000000 + t * t)               # (1 + tan^2) in millionths
    r = 1000
    while True:                            # integer sqrt of norm
        r2 = (r + norm // r) // 2
        if abs(r2 - r) <= 1:
            break
        r = r2
    s = 1000 * t // r
    c = 1000 * 1000 // r
    x = -s if turned else s
    return (x + OFFSET[0], OFFSET[1], c + OFFSET[2])


def test_two_readings_cancel_the_offset():
    first, second = _lying(70, False), _lying(70, True)
    g = gradient_x10(first, second)
    assert 68 <= g <= 71, g
    naive = 1000 * abs(first[0]) // first[2]        # one reading alone is 3 points off
    assert naive > 95


def test_verdicts_follow_the_seed_band():
    assert slope.verdict(30) == "gentle"
    assert slope.verdict(50) == "ok" and slope.verdict(100) == "ok"
    assert slope.verdict(101) == "steep"


def test_meter_waits_for_still_then_turn_then_still():
    m = SlopeMeter(RATE)
    codes = []

    def lie(sample, seconds):
        for _ in range(int(seconds * RATE)):
            c = m.feed(*sample)
            if c:
                codes.append(c)
    lie(_lying(120, False), 2.5)
    assert codes == [FIRST]
    for i in range(RATE):                          # picked up and turned
        m.feed(300 if i % 10 < 5 else -300, 200, 900)
    lie(_lying(120, True), 2.5)
    assert codes == [FIRST, DONE]
    assert 118 <= m.gradient_x10 <= 121
    assert slope.verdict(m.gradient_x10) == "steep"


def test_not_lying_flat_is_a_clear_error():
    e = raises(ValueError, gradient_x10, (1000, 0, 0), (-1000, 0, 0))
    assert "flat" in str(e)


class _Out:
    def apply(self, t, tone, motor):
        pass


class _Board:
    output = _Out()


def test_sprint_setup_measures_the_slope_and_cues_the_verdict():
    from swcore.motion import MotionPipeline
    name, steps = plan.parse(DEFAULT_PLAN)
    assert steps[2]["name"] == "Sprint Setup" and steps[2]["measure"] == "slope"
    log = Collector()
    app = App(_Board(), name, steps, [log], MotionPipeline(RATE))
    app.start(0)
    app.engine.gesture("double", 0)
    app.engine.gesture("double", 1)               # on to Sprint Setup
    t = 2
    for sample, seconds in ((_lying(70, False), 2), (None, 2), (_lying(70, True), 2)):
        for i in range(seconds * RATE):
            if sample is None:                        # picked up and turned
                app.sample(400 if i % 10 < 5 else -400, 0, 800, t)
            else:
                app.sample(sample[0], sample[1], sample[2], t)
            t += 20
    ev = log.of("slope")
    assert len(ev) == 1 and ev[0][2]["verdict"] == "ok", ev
    assert 6.8 <= ev[0][2]["gradient_pct"] <= 7.1
    cues = [f["pattern"] for _, e, f in log.events if e == "cue"]
    assert "slope_turn" in cues and cues[-1] == "slope_ok"


def test_an_unknown_measurement_is_rejected_by_name():
    doc = json.dumps({"name": "T", "sets": [{"name": "S", "steps": [
        {"name": "Setup", "kind": "open", "measure": "wind"}]}]})
    e = raises(plan.PlanError, plan.parse, doc)
    assert "field 'measure'" in str(e) and "wind" in str(e)


def _setup_app(motion):
    name, steps = plan.parse(DEFAULT_PLAN)
    log = Collector()
    app = App(_Board(), name, steps, [log], motion)
    app.start(0)
    app.engine.gesture("double", 0)
    app.engine.gesture("double", 1)               # on to Sprint Setup
    return app, log


def _feed(app, sample, seconds, t):
    for _ in range(int(seconds * RATE)):
        app.sample(sample[0], sample[1], sample[2], t)
        t += 20
    return t


def _cues(log):
    return [f["pattern"] for _, e, f in log.events if e == "cue"]


def test_worn_upright_is_no_reading_the_cue_says_lay_it_flat_once():
    from swcore.motion import MotionPipeline
    app, log = _setup_app(MotionPipeline(RATE))
    t = _feed(app, (20, 990, 60), 4, 2)            # upright on the wrist, still
    assert log.of("slope") == [] and "slope_turn" not in _cues(log)
    assert _cues(log).count("slope_flat") == 1 and len(log.of("slope_not_flat")) == 1
    t = _feed(app, (990, 20, -60), 2, t)           # on its edge: still not flat, said once
    assert _cues(log).count("slope_flat") == 1
    t = _feed(app, _lying(70, False), 2, t)        # laid flat: the first reading
    assert _cues(log)[-1] == "slope_turn"
    for i in range(RATE):
        app.sample(400 if i % 10 < 5 else -400, 0, 800, t)
        t += 20
    _feed(app, _lying(70, True), 2, t)
    ev = log.of("slope")
    assert len(ev) == 1 and 6.8 <= ev[0][2]["gradient_pct"] <= 7.1, ev


def test_both_readings_vertical_never_raise_into_the_sample_path():
    m = SlopeMeter(RATE)
    codes = []
    for sample in ((1000, 0, 0), (300, 0, 0), (-1000, 0, 0)):
        for _ in range(2 * RATE):
            c = m.feed(*sample)                    # the old meter raised ValueError here
            if c:
                codes.append(c)
    assert codes == [slope.NOT_FLAT] and m.gradient_x10 == -1 and m.first is None


def test_turned_over_instead_of_round_is_not_a_reading():
    m = SlopeMeter(RATE)
    codes = []
    for sample in (_lying(70, False), None, (40, -20, -990)):
        for i in range(2 * RATE):
            if sample is None:                     # picked up, turned face down
                c = m.feed(400 if i % 10 < 5 else -400, 0, 0)
            else:
                c = m.feed(*sample)
            if c:
                codes.append(c)
    assert codes == [FIRST, slope.NOT_FLAT] and m.gradient_x10 == -1


class _CountingMotion:
    """A rep detector that counts its samples, and raises when told to."""
    rate = RATE

    def __init__(self, fail=False):
        self.fed = 0
        self.mag = 1000
        self.fail = fail

    def feed(self, ax, ay, az):
        self.fed += 1
        if self.fail:
            raise ZeroDivisionError("divide by zero")
        return 0

    def arm(self, floor):
        pass

    def disarm(self):
        pass

    def rep_metrics(self):
        return {}


def test_a_failing_slope_meter_is_cued_and_logged_and_the_rep_detector_keeps_going():
    motion = _CountingMotion()
    app, log = _setup_app(motion)

    def broken(ax, ay, az):
        raise IndexError("slope bug")
    app.slope.feed = broken
    _feed(app, _lying(70, False), 2, 2)
    faults = log.of("slope_fault")
    assert len(faults) == 1 and "slope bug" in faults[0][2]["error"], faults
    assert "error" in _cues(log) and app.slope is None
    assert motion.fed == 2 * RATE and app.motion is motion     # every sample still seen
    app.engine.gesture("tap", 3000)                  # on to the first sprint
    app.engine.gesture("tap", 4000)                  # go
    assert app.engine.motion_sensing


def test_a_failing_rep_detector_is_cued_and_logged_and_the_slope_meter_keeps_going():
    app, log = _setup_app(_CountingMotion(fail=True))
    t = _feed(app, _lying(70, False), 2, 2)
    faults = log.of("motion_fault")
    assert len(faults) == 1 and "divide by zero" in faults[0][2]["error"], faults
    assert app.motion is None and not app.engine.motion_sensing
    for i in range(RATE):
        app.sample(400 if i % 10 < 5 else -400, 0, 800, t)
        t += 20
    _feed(app, _lying(70, True), 2, t)
    ev = log.of("slope")
    assert len(ev) == 1 and ev[0][2]["verdict"] == "ok", ev
    assert _cues(log).count("error") == 1
