"""Plan parsing: the built-in session, and a clear message for every kind of bad plan."""
import json

from expect import raises
from swcore import plan
from swcore.default_plan import DEFAULT_PLAN


def _plan(steps, set_name="Main"):
    return json.dumps({"name": "T", "sets": [{"name": set_name, "steps": steps}]})


def _error(doc):
    return str(raises(plan.PlanError, plan.parse, doc))


def test_default_plan_is_the_seed_session():
    name, steps = plan.parse(DEFAULT_PLAN)
    assert name == "Descending Sprints"
    names = [s["name"] for s in steps]
    assert names[:3] == ["Easy Jog", "Dynamic Stretches", "Sprint Setup"]
    assert names[-2:] == ["Easy Jog or Walk", "Static Stretching"]
    sprints = [s for s in steps if s["kind"] == "sprint"]
    assert len(sprints) == 6
    assert all(s["effort_pct"] == 80 and s["max_ms"] == 45000 for s in sprints)
    walks = [s for s in steps if s["kind"] == "recovery"]
    assert [(w["min_ms"], w["max_ms"]) for w in walks] == [(120000, 180000)] * 6
    assert steps[0]["duration_ms"] == 600000 and "10-minute easy jog" in steps[0]["note"]
    assert [s["rep"] for s in sprints] == [1, 2, 3, 4, 5, 6]
    assert [s["index"] for s in steps] == list(range(len(steps)))


def test_sprint_max_defaults_to_45_s():
    _, steps = plan.parse(_plan([{"name": "S", "kind": "sprint"}]))
    assert steps[0]["max_ms"] == 45000


def test_bad_json_is_named():
    assert "not valid JSON" in _error("{\"name\": ")


def test_unknown_kind_names_set_step_and_field():
    msg = _error(_plan([{"name": "Jog", "kind": "timed", "duration_s": 5},
                        {"name": "Dash", "kind": "dash"}]))
    assert "set 1 'Main'" in msg and "step 2 'Dash'" in msg and "field 'kind'" in msg
    assert "'dash'" in msg


def test_missing_and_negative_durations():
    msg = _error(_plan([{"name": "Jog", "kind": "timed"}]))
    assert "step 1 'Jog', field 'duration_s': is missing" in msg
    msg = _error(_plan([{"name": "Jog", "kind": "timed", "duration_s": -5}]))
    assert "field 'duration_s'" in msg and "greater than 0" in msg
    msg = _error(_plan([{"name": "Walk", "kind": "recovery", "min_s": 60}]))
    assert "field 'max_s': is missing" in msg


def test_wrong_types():
    assert "must be a number" in _error(_plan([{"name": "Jog", "kind": "timed", "duration_s": "600"}]))
    assert "must be a number" in _error(_plan([{"name": "Jog", "kind": "timed", "duration_s": True}]))
    assert "field 'steps': must be a list" in _error(json.dumps({"name": "T", "sets": [{"name": "A", "steps": {}}]}))
    assert "must be text" in _error(_plan([{"name": 5, "kind": "open"}]))


def test_repeat_zero_and_empty_blocks():
    msg = _error(_plan([{"repeat": 0, "steps": [{"name": "S", "kind": "sprint"}]}]))
    assert "field 'repeat'" in msg and "got 0" in msg
    assert "the set is empty" in _error(_plan([], "Empty"))
    assert "set 1 'Empty'" in _error(_plan([], "Empty"))
    assert "the plan has no sets" in _error(json.dumps({"name": "T", "sets": []}))


def test_error_inside_a_repeat_block_points_into_it():
    msg = _error(_plan([{"name": "Setup", "kind": "open"},
                        {"repeat": 3, "steps": [{"name": "S", "kind": "sprint", "max_s": 0}]}]))
    assert "step 2 (repeat block), inner step 1 'S', field 'max_s'" in msg


def test_recovery_max_below_min_is_rejected():
    msg = _error(_plan([{"name": "W", "kind": "recovery", "min_s": 180, "max_s": 120}]))
    assert "field 'max_s'" in msg and "min_s" in msg


def test_typo_in_a_field_is_rejected():
    msg = _error(_plan([{"name": "Jog", "kind": "timed", "duraton_s": 60}]))
    assert "field 'duraton_s'" in msg


def test_repeat_expands_in_order():
    _, steps = plan.parse(_plan([{"repeat": 2, "steps": [{"name": "S", "kind": "sprint"},
                                                          {"name": "W", "kind": "recovery", "min_s": 1, "max_s": 2}]}]))
    assert [(s["name"], s["rep"], s["of"]) for s in steps] == [("S", 1, 2), ("W", 1, 2), ("S", 2, 2), ("W", 2, 2)]


def test_a_sprint_may_carry_its_distance_within_bounds():
    _, steps = plan.parse(_plan([{"name": "Hill", "kind": "sprint", "distance_m": 120}]))
    assert steps[0]["distance_m"] == 120
    for bad in (0, -5, 2001, "120", True, None):
        msg = _error(_plan([{"name": "Hill", "kind": "sprint", "distance_m": bad}]))
        assert "'distance_m'" in msg and "1 to 2000" in msg, msg
    msg = _error(_plan([{"name": "Jog", "kind": "timed", "duration_s": 60, "distance_m": 100}]))
    assert "'distance_m'" in msg and "not a field of a timed step" in msg
