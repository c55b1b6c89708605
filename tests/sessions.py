"""Sessions for the host-tool tests: real simulator runs, with motion figures added.

The simulator writes what the firmware emits. Until the motion pipeline reports
cadence in the simulator, ``with_motion`` adds the once-a-second ``sprint_tick``
records and rep metrics the session-log format carries, derived from a seed so each
test can compare exports with the figures it put in.
"""
import random

from host_tools.sim import DEMO_TAPS, presses_from_args, run_sim

SHORT_PLAN = {
    "name": "Short hill reps",
    "sets": [
        {"name": "Warm", "steps": [{"name": "Jog", "kind": "timed", "duration_s": 30}]},
        {"name": "Hill", "steps": [
            {"name": "Find hill", "kind": "open"},
            {"repeat": 3, "steps": [
                {"name": "Rep", "kind": "sprint", "max_s": 20},
                {"name": "Jog back", "kind": "recovery", "min_s": 10, "max_s": 25},
            ]},
        ]},
        {"name": "Cool", "steps": [{"name": "Walk", "kind": "timed", "duration_s": 20}]},
    ],
}


def as_tuples(records):
    out = []
    for r in records:
        r = dict(r)
        out.append((r.pop("t_ms"), r.pop("event"), r))
    return out


def with_motion(events, seed=1, spm=(170, 195), drop_rep=None, rep_spm=None):
    """Give a run made standing still (no trace) a runner's sprint ticks (cadence,
    peak g) and rep metrics, in place of its zero-cadence ticks.

    ``rep_spm`` maps a rep number to its own cadence range (a tiring runner)."""
    if any(ev == "sprint_tick" and f["cadence_spm"] for _t, ev, f in events):
        return events
    events = [e for e in events if e[1] != "sprint_tick"]
    rng = random.Random(seed)
    out = []
    go = None
    ticks = []
    rep_range = spm
    for t, ev, f in events:
        if ev == "sprint_go":
            go = t
            ticks = []
            rep_range = (rep_spm or {}).get(f.get("rep"), spm)
        if ev == "rep" and go is not None:
            for s in range(go + 1000, t, 1000):
                tick = {"cadence_spm": rng.randint(*rep_range), "peak_g": round(rng.uniform(2.0, 4.5), 2)}
                ticks.append(tick)
                out.append((s, "sprint_tick", tick))
            f = dict(f)
            if ticks and f.get("rep") != drop_rep:
                f["cadence_spm"] = sum(x["cadence_spm"] for x in ticks) / len(ticks)
                f["peak_g"] = max(x["peak_g"] for x in ticks)
                f["steps"] = int(f["cadence_spm"] * (t - go) / 60000)
                f["motion"] = True          # the figures are a runner's: the rep had a run
            go = None
        out.append((t, ev, f))
    out.sort(key=lambda e: e[0])
    return out


def default_session(tmp_path, holds=""):
    """The default plan with the demo taps (and pauses given as S:MS long presses)."""
    presses = presses_from_args(DEMO_TAPS, holds, "")
    events = as_tuples(run_sim(tmp_path / "sim", presses=presses, runtime="cpython"))
    return {"plan": "Descending Sprints", "clock_set": True, "wall_s": 1790000000}, with_motion(events)


def short_session(folder, reps, wall_s, skip_rep=None, spm=(178, 186), last_rep=None, seed=1,
                  rep_spm=None):
    """SHORT_PLAN with ``reps`` sprints: 10 s each, 15 s walks back, all tapped.

    ``skip_rep`` is skipped with a double press; ``last_rep`` stops the taps after that
    rep (the session is left waiting, as when the runner walks off).
    """
    import copy
    import json
    from pathlib import Path
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    plan = copy.deepcopy(SHORT_PLAN)
    plan["sets"][1]["steps"][1]["repeat"] = reps
    (folder / "plan.json").write_text(json.dumps(plan))
    taps, doubles = [35.0], []
    go = 40.0
    for rep in range(1, reps + 1):
        if last_rep is not None and rep > last_rep:
            break
        taps.append(go)
        if rep == skip_rep:
            doubles.append(go + 10)
        else:
            taps.append(go + 10)
        go += 25
    presses = presses_from_args(",".join(map(str, taps)), "", ",".join(map(str, doubles)))
    events = as_tuples(run_sim(folder / "sim", plan=folder / "plan.json", presses=presses,
                               runtime="cpython"))
    header = {"plan": plan["name"], "clock_set": True, "wall_s": wall_s}
    return header, with_motion(events, seed=seed, spm=spm, rep_spm=rep_spm)
