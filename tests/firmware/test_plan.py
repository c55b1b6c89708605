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
    assert "field 'duration_s'" in msg and "must be from 1 to 86400 seconds" in msg and "got -5" in msg
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



# ---- issue 15: every outside value bounded, the same answer on every runtime ----
def _one(step):
    """A plan of one step, as JSON text written by hand (no json.dumps: the two
    runtimes' writers differ, and the point is the text a runner's tools produce)."""
    return '{"name": "T", "sets": [{"name": "Main", "steps": [%s]}]}' % step


def test_an_emoji_written_as_a_surrogate_pair_escape_is_one_character():
    # what CPython's json.dumps (and so `sprintwatch next --write`) writes for "Hill 🏃"
    text = '{"name": "Hill \\ud83c\\udfc3", "sets": [{"name": "Main", "steps": [{"name": "Go \\ud83c\\udfc3", "kind": "open"}]}]}'
    name, steps = plan.parse(text)
    assert name == "Hill " + chr(0x1F3C3)
    assert name.encode() == b"Hill \xf0\x9f\x8f\x83"          # valid UTF-8 for the log
    assert steps[0]["name"].encode() == b"Go \xf0\x9f\x8f\x83"
    assert plan.parse(text.encode())[0] == name                 # bytes from a file: the same


def test_a_lone_surrogate_is_refused_as_escape_and_as_bytes():
    msg = _error('{"name": "Hill \\ud83c", "sets": []}')
    assert "lone surrogate" in msg and "line 1 column 16" in msg
    assert "lone surrogate" in _error('{"name": "Hill \\udfc3\\ud83c", "sets": []}')
    msg = _error(b'{"name": "Hill \xed\xa0\xbc", "sets": []}')   # a surrogate encoded as bytes
    assert "not UTF-8" in msg
    assert "not UTF-8" in _error(b'{"name": "\xc0\xae", "sets": []}')   # an overlong form


def test_names_are_bounded_in_bytes_of_utf8():
    long_plan = '{"name": "%s", "sets": [{"name": "Main", "steps": [{"name": "O", "kind": "open"}]}]}'
    msg = _error(long_plan % ("x" * 1000))
    assert "field 'name': is 1000 bytes of UTF-8, more than 48" in msg
    assert plan.parse(long_plan % ("\\u00e9" * 24))[0] == chr(0xE9) * 24     # 48 bytes
    assert "is 50 bytes" in _error(long_plan % ("\\u00e9" * 25))
    msg = _error(_one('{"name": "%s", "kind": "open"}' % ("y" * 49)))
    assert "step 1 'yyyy" in msg and "field 'name': is 49 bytes" in msg
    assert "field 'note': is 501 bytes" in _error(_one('{"name": "O", "kind": "open", "note": "%s"}' % ("n" * 501)))


def test_huge_and_non_finite_numbers_are_plan_errors_naming_the_field():
    for number in ("1e308", "1e400", "-1e400", "123456789012345678901234567890", "1e-400"):
        msg = _error(_one('{"name": "Jog", "kind": "timed", "duration_s": %s}' % number))
        assert "step 1 'Jog', field 'duration_s': must be from 1 to 86400 seconds (24 h), got %s" % number in msg, msg
    for word in ("NaN", "Infinity", "-Infinity"):
        msg = _error(_one('{"name": "Jog", "kind": "timed", "duration_s": %s}' % word))
        assert "not valid JSON (line 1 column 98: " in msg, msg
    nan = float("nan")
    msg = _error({"name": "T", "sets": [{"name": "M", "steps": [{"name": "J", "kind": "timed", "duration_s": nan}]}]})
    assert "field 'duration_s'" in msg


def test_leading_zeros_and_other_non_json_are_refused():
    assert "must not start with 0" in _error(_one('{"name": "J", "kind": "timed", "duration_s": 012}'))
    assert "not valid JSON" in _error(_one('{"name": "J", "kind": "timed", "duration_s": 12,}'))
    assert "not valid JSON" in _error(_one('{"name": "J", "kind": "timed", "duration_s": .5}'))
    assert "appears twice" in _error(_one('{"name": "J", "kind": "timed", "duration_s": 5, "duration_s": 6}'))
    assert "extra text" in _error(_one('{"name": "J", "kind": "open"}') + "x")


def test_every_range_is_checked():
    def err(step):
        return _error(_one(step))
    assert "got 0.5" in err('{"name": "J", "kind": "timed", "duration_s": 0.5}')
    assert "got 86401" in err('{"name": "J", "kind": "timed", "duration_s": 86401}')
    assert plan.parse(_one('{"name": "J", "kind": "timed", "duration_s": 86400}'))[1][0]["duration_ms"] == 86400000
    assert plan.parse(_one('{"name": "J", "kind": "timed", "duration_s": 1}'))[1][0]["duration_ms"] == 1000
    assert "from 1 to 100, got 0.5" in err('{"name": "S", "kind": "sprint", "effort_pct": 0.5}')
    assert "from 1 to 100, got 101" in err('{"name": "S", "kind": "sprint", "effort_pct": 101}')
    for bad in ("50", "99.9", "241", "-1"):
        msg = err('{"name": "S", "kind": "sprint", "cadence_floor_spm": %s}' % bad)
        assert "field 'cadence_floor_spm': must be a number from 100 to 240, or 0 (off), got " + bad in msg
    for good, want in (("0", 0), ("100", 100), ("240", 240), ("180.5", 180.5)):
        step = plan.parse(_one('{"name": "S", "kind": "sprint", "cadence_floor_spm": %s}' % good))[1][0]
        assert step["cadence_floor_spm"] == want
    assert "got 1e5" in err('{"name": "S", "kind": "sprint", "max_s": 1e5}')
    assert "field 'min_s'" in err('{"name": "W", "kind": "recovery", "min_s": 0, "max_s": 5}')


def test_durations_are_exact_milliseconds():
    # 2.01 * 1000 is 2009.999... in binary floating point; the plan means 2010 ms
    step = plan.parse(_one('{"name": "J", "kind": "timed", "duration_s": 2.01}'))[1][0]
    assert step["duration_ms"] == 2010
    step = plan.parse(_one('{"name": "J", "kind": "timed", "duration_s": 1.001}'))[1][0]
    assert step["duration_ms"] == 1001
    step = plan.parse(_one('{"name": "W", "kind": "recovery", "min_s": 1.0005, "max_s": 2.5e1}'))[1][0]
    assert (step["min_ms"], step["max_ms"]) == (1000, 25000)


def test_nesting_and_size_are_bounded_before_parsing():
    msg = _error("[" * 1000)
    assert "nested more than 8 deep" in msg
    msg = _error('{"name": "T", "note": "%s", "sets": []}' % ("x" * 20000))
    assert "more than 16384" in msg
    assert "the plan is empty" in _error("")
    assert "the plan is empty" in _error(b"")


def test_the_first_unknown_field_is_the_same_on_every_runtime():
    msg = _error(_one('{"name": "J", "kind": "open", "zeta": 1, "alpha": 2, "mid": 3}'))
    assert "field 'alpha'" in msg
