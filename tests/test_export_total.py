"""Exports are total (issue 15): every session the reader accepts exports to FIT, TCX,
CSV and JSON with non-negative, consistent durations, wherever the power went and
whatever records were skipped."""
import csv
import io
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "firmware"))

from host_tools import export                   # noqa: E402
from host_tools.session_model import Session    # noqa: E402
from swcore import logformat as fmt             # noqa: E402

HEADER = {"session": 1, "plan": "P", "clock_set": True, "wall_s": 1790000000}


def start(t, i, kind="sprint"):
    return (t, "step_start", {"set": "S", "step": "Sprint", "kind": kind, "index": i})


def end(t, i, kind="sprint", reason="tap"):
    return (t, "step_end", {"set": "S", "step": "Sprint", "kind": kind, "index": i, "reason": reason})


def check_exports(header, events):
    """Export in every format; every duration non-negative and within the session."""
    session = Session(header, events)
    for step in session.steps:
        assert 0 <= step.paused_ms <= step.elapsed_ms, (step.start_ms, step.end_ms, step.paused_ms)
    assert 0 <= session.paused_ms <= session.end_ms
    for f in export.FORMATS:
        assert export.export_bytes(header, events, f)
    rows = list(csv.DictReader(io.StringIO(export.export_bytes(header, events, "csv").decode())))
    for row in rows:
        for col in ("start_s", "end_s", "duration_s", "paused_s"):
            if row[col] != "":
                assert float(row[col]) >= 0, (col, row)
    tcx = export.export_bytes(header, events, "tcx").decode()
    assert "TotalTimeSeconds>-" not in tcx
    return session


def test_a_session_cut_while_paused_exports():
    events = [start(0, 0), (5000, "cue", {"pattern": "pause"}), (5000, "pause", {"step": "Sprint", "index": 0})]
    s = check_exports(HEADER, events)
    assert s.steps[0].timer_ms == 5000


def test_a_skipped_resume_record_does_not_charge_the_rest_as_paused():
    events = [start(0, 0), (5000, "pause", {}),                 # its resume skipped by its CRC
              end(8000, 0), start(8000, 1, "recovery"), end(128000, 1, "recovery", "time"),
              (128000, "session_end", {"reps": 1, "paused_ms": 3000})]
    s = check_exports(HEADER, events)
    assert s.paused_ms == 3000 and s.steps[1].paused_ms == 0
    row = [r for r in csv.DictReader(io.StringIO(export.export_bytes(HEADER, events, "csv").decode()))
           if r["row"] == "step"][1]
    assert float(row["duration_s"]) == 120.0


def test_a_skipped_pause_record_is_rebuilt_from_the_resume():
    events = [start(0, 0), (9000, "resume", {"paused_ms": 4000}), end(12000, 0),
              (12000, "session_end", {})]
    s = check_exports(HEADER, events)
    assert s.pauses == [(5000, 9000)] and s.steps[0].timer_ms == 8000


def test_a_skipped_step_end_closes_the_step_at_the_next_start():
    s = check_exports(HEADER, [start(0, 0), start(7000, 1), end(9000, 1)])
    assert [(x.start_ms, x.end_ms) for x in s.steps] == [(0, 7000), (7000, 9000)]


def test_odd_values_in_crc_valid_records_export():
    events = [(0, "step_start", {"index": "x", "kind": 5, "set": None, "step": [1]}),
              (10, "sprint_tick", {"cadence_spm": -5, "peak_g": "a"}),
              (20, "sprint_tick", {"cadence_spm": 10 ** 9, "peak_g": float("nan")}),
              (30, "rep", {"rep": "z", "cadence_spm": -5, "duration_ms": -100, "steps": 10 ** 12,
                           "start_ms": 50}),
              (2 ** 62, "cue", {}), (40, "resume", {"paused_ms": -7}),
              (50, "step_end", {"reason": 3})]
    check_exports({"plan": 7, "wall_s": 10 ** 15, "clock_set": True}, events)
    check_exports({}, [])
    check_exports({}, [(0, "pause", {})])


def _random_session(rng):
    """A plausible session, then damaged: records dropped, shuffled a little, cut."""
    events = []
    t = 0
    for i in range(rng.randint(1, 12)):
        kind = rng.choice(("timed", "sprint", "recovery", "open"))
        events.append(start(t, i, kind))
        if kind == "sprint":
            events.append((t, "sprint_go", {"rep": i}))
            for k in range(rng.randint(0, 5)):
                events.append((t + k * 1000, "sprint_tick", {"cadence_spm": rng.randint(0, 220), "peak_g": 2.5}))
        if rng.random() < 0.3:
            p = t + rng.randint(0, 3000)
            events.append((p, "pause", {"step": "Sprint", "index": i}))
            events.append((p + rng.randint(0, 9000), "resume", {"paused_ms": rng.randint(0, 9000)}))
        t += rng.randint(0, 20000)
        if kind == "sprint":
            events.append((t - rng.randint(0, 2000), "rep", {"rep": i, "start_ms": t - 5000,
                                                             "duration_ms": rng.randint(0, 9000)}))
        events.append(end(t, i, kind, rng.choice(("tap", "time", "skipped", "motion"))))
    events.append((t, "session_end", {"reps": 1, "paused_ms": 0}))
    events = [e for e in events if rng.random() > 0.15]          # skipped by their CRC
    if events and rng.random() < 0.5:
        events = events[:rng.randint(0, len(events))]            # power lost
    return events


@pytest.mark.parametrize("seed", range(40))
def test_damaged_sessions_through_the_real_reader_export(seed):
    rng = random.Random(seed)
    events = _random_session(rng)
    data = fmt.encode_header(1, 1, "P", 0, "0.1.0", wall_s=1790000000)
    data += b"".join(fmt.encode_record(t, ev, f) for t, ev, f in events)
    header, records, _problems = fmt.read_session(data)
    check_exports(header, records)
