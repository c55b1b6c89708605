"""Form-drop guard: later reps against the best of the first two; the end-the-set offer."""
from expect import Collector, raises
from app import App
from swcore import plan
from swcore.formguard import FormGuard
from standins import SilentOutput, StillMotion


def _rep(n, cadence, run_ms, peak_g=4.5, motion=True, reason="motion", **extra):
    r = {"rep": n, "motion": motion, "reason": reason, "cadence_spm": cadence, "moving_ms": run_ms,
         "duration_ms": run_ms + 900, "reaction_ms": 900, "steps": cadence * run_ms // 60000, "peak_g": peak_g}
    for k in extra:
        r[k] = extra[k]
    return r


def test_slower_cadence_and_longer_run_together_are_a_form_drop_against_the_best_of_the_first_two():
    g = FormGuard()
    assert g.check(_rep(1, 170, 15500)) is None          # baseline
    assert g.check(_rep(2, 166, 15000)) is None          # baseline: best cadence 170, shortest run 15.0 s
    drop = g.check(_rep(3, 155, 17400))                  # -8.8 % cadence, +16 % run
    assert drop["signals"] == "cadence,duration"
    assert drop["cadence_pct"] == -8.8 and drop["duration_pct"] == 16.0
    assert drop["base_cadence_spm"] == 170 and drop["base_run_ms"] == 15000
    assert drop["in_a_row"] == 1 and not drop["offer"]
    again = g.check(_rep(4, 150, 18000))
    assert again["in_a_row"] == 2 and again["offer"]


def test_one_figure_alone_is_no_form_drop():
    g = FormGuard()
    g.check(_rep(1, 170, 15000))
    g.check(_rep(2, 170, 15000))
    assert g.check(_rep(3, 150, 15000)) is None          # slower cadence, same run time
    assert g.check(_rep(4, 170, 20000)) is None          # longer run, same cadence
    assert g.check(_rep(5, 160, 16000)) is None          # -6 % and +7 %: inside the bounds


def test_impact_or_contact_time_can_be_the_second_signal():
    g = FormGuard()
    g.check(_rep(1, 170, 15000, 4.0, contact_ms=200))
    g.check(_rep(2, 170, 15000, 4.2, contact_ms=210))
    drop = g.check(_rep(3, 150, 15000, 5.0, contact_ms=240))
    assert drop["signals"] == "cadence,impact,contact"
    assert drop["impact_pct"] == 25.0 and drop["contact_pct"] == 20.0


def test_reps_without_a_run_or_skipped_are_not_compared_and_a_good_rep_ends_the_streak():
    g = FormGuard()
    assert g.check(_rep(1, 0, 0, motion=False, reason="max")) is None
    g.check(_rep(2, 170, 15000))
    g.check(_rep(3, 170, 15000))                         # the baseline is reps 2 and 3
    assert g.check(_rep(4, 150, 18000))["in_a_row"] == 1
    assert g.check(_rep(5, 150, 18000, reason="skipped")) is None
    assert g.check(_rep(6, 168, 15200)) is None
    assert g.check(_rep(7, 150, 18000))["in_a_row"] == 1


def test_plan_bounds_change_the_guard_and_false_turns_it_off():
    doc = {"name": "T", "form_guard": {"cadence_drop_pct": 3, "offer_after": 0},
           "sets": [{"name": "S", "steps": [{"name": "Go", "kind": "sprint"}]}]}
    _, steps = plan.parse(doc)
    g = FormGuard(steps[0]["guard"])
    g.check(_rep(1, 170, 15000))
    g.check(_rep(2, 170, 15000))
    drop = g.check(_rep(3, 164, 18000))                  # -3.5 % is past a 3 % bound
    assert drop is not None and not drop["offer"]
    assert g.check(_rep(4, 164, 18000))["offer"] is False   # offer_after 0: never offered
    doc["form_guard"] = False
    assert plan.parse(doc)[1][0]["guard"] is None


def test_bad_form_guard_bounds_are_named():
    base = {"name": "T", "sets": [{"name": "S", "steps": [{"name": "Go", "kind": "sprint"}]}]}
    for bad, words in (({"cadence_drop_pct": 0}, "'cadence_drop_pct': must be a whole number from 1 to 50"),
                       ({"cadence": 8}, "'cadence': is not a bound"),
                       ("on", "must be true, false or an object")):
        doc = dict(base, form_guard=bad)
        assert words in str(raises(plan.PlanError, plan.parse, doc))
    assert "level" in str(raises(plan.PlanError, plan.parse, dict(base, level="expert")))
    assert plan.parse(dict(base, level="beginner"))[0] == "T"


class _Board:
    output = SilentOutput()
    display = None


_PLAN = {"name": "T", "sets": [
    {"name": "Sprints", "steps": [{"repeat": 5, "steps": [
        {"name": "Sprint", "kind": "sprint", "max_s": 40},
        {"name": "Walk Back", "kind": "recovery", "min_s": 60, "max_s": 90}]}]},
    {"name": "Cool-Down", "steps": [{"name": "Walk", "kind": "timed", "duration_s": 30}]}]}


def _session(figures, accept_at=None):
    """Five sprints, each go tapped as its recovery is ready; the runner stops after 15 s.
    ``accept_at``: a tap that many seconds into a walk back, after the offer."""
    _, steps = plan.parse(_PLAN)
    sink = Collector()
    app = App(_Board(), "T", steps, [sink], StillMotion())
    app.start(0)
    e = app.engine
    t = 0
    rep = 0
    while t < 800000 and not e.done:
        if e.step["kind"] == "sprint" and e.phase == "armed":
            e.gesture("tap", t)
            continue
        if e.step["kind"] == "sprint" and e.phase == "running":   # go: the runner runs
            e.motion_start(t + 800)
            c, ms = figures[rep]
            rep += 1
            e.motion_stop(t + 800 + ms, _rep(rep, c, ms))
            t += 800 + ms
            continue
        if e.step["kind"] == "recovery" and e.phase == "walk" and e.end_offer and accept_at is not None:
            e.gesture("tap", t + accept_at * 1000)
            t += accept_at * 1000
            continue
        if e.step["kind"] == "recovery" and e.phase == "ready":
            e.gesture("tap", t)
        t += 500
        app.service(t)
    return sink


_FADING = [(170, 15000), (168, 15200), (164, 16000), (154, 17500), (150, 18500)]
_STEADY = [(170, 15000), (168, 15200), (171, 14800), (166, 15600), (169, 15100)]


def test_a_fading_session_logs_form_drops_and_offers_to_end_the_set_once_two_come_in_a_row():
    sink = _session(_FADING)
    drops = sink.of("form_drop")
    assert [f["rep"] for _, _, f in drops] == [4, 5]
    offers = sink.of("end_set_offer")
    assert [f["rep"] for _, _, f in offers] == []        # the second drop was the set's last rep
    sink = _session(_FADING[:2] + [(154, 17500), (150, 18500), (170, 15000)])
    assert [f["rep"] for _, _, f in sink.of("end_set_offer")] == [4]
    patterns = [f["pattern"] for _, ev, f in sink.events if ev == "cue"]
    assert patterns.count("ease_off") == 1 and patterns.count("end_set_offer") == 1
    assert len(sink.of("rep")) == 5 and not sink.of("end_set")   # no tap in the walk: the offer lapsed


def test_a_tap_during_the_walk_takes_the_offer_and_the_recovery_leads_to_the_cool_down():
    sink = _session(_FADING[:2] + [(154, 17500), (150, 18500), (170, 15000)], accept_at=10)
    ended = sink.of("end_set")
    assert len(ended) == 1 and ended[0][2]["sprints_left"] == 1
    assert len(sink.of("rep")) == 4
    starts = [f["step"] for _, ev, f in sink.events if ev == "step_start"]
    assert starts[-2:] == ["Walk Back", "Walk"]
    assert sink.of("session_end")[0][2]["reps"] == 4


def test_a_steady_session_raises_no_alarm():
    sink = _session(_STEADY)
    assert not sink.of("form_drop") and not sink.of("end_set_offer")
    assert "ease_off" not in [f["pattern"] for _, ev, f in sink.events if ev == "cue"]
