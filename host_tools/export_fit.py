"""FIT files through fit-tool (BSD-3-Clause): a session as an activity, a plan as a workout.

The mapping is documented in docs/export.md. Garmin's own Python SDK writes FIT too,
but its licence limits use to the licensee's internal business purposes and forbids
passing it on, which does not fit an MIT project that users install; fit-tool has no
such terms.
"""
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.activity_message import ActivityMessage
from fit_tool.profile.messages.event_message import EventMessage
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.lap_message import LapMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.messages.workout_message import WorkoutMessage
from fit_tool.profile.messages.workout_step_message import WorkoutStepMessage
from fit_tool.profile.profile_type import (
    Activity, Event, EventType, FileType, Intensity, LapTrigger, Manufacturer, SessionTrigger,
    Sport, SubSport, WorkoutStepDuration, WorkoutStepTarget,
)

from host_tools.session_model import steps_per_min_to_fit

INTENSITY = {"warmup": Intensity.WARMUP, "active": Intensity.ACTIVE,
             "recovery": Intensity.RECOVERY, "cooldown": Intensity.COOLDOWN}
# What ended a step -> FIT lap trigger. A sensor-detected stop has no FIT trigger of its
# own: "time" (automatic) is the nearest.
LAP_TRIGGER = {"tap": LapTrigger.MANUAL, "skipped": LapTrigger.MANUAL, "time": LapTrigger.TIME,
               "max": LapTrigger.TIME, "motion": LapTrigger.TIME,
               "session_end": LapTrigger.SESSION_END}
SERIAL = 0x5357  # "SW"


def _ms(start, t_ms):
    """Session clock -> fit-tool's timestamps (ms since the Unix epoch)."""
    return int(start.timestamp() * 1000) + int(t_ms)


def _file_id(kind, start):
    m = FileIdMessage()
    m.type = kind
    m.manufacturer = Manufacturer.DEVELOPMENT.value
    m.product = 0
    m.serial_number = SERIAL
    m.time_created = _ms(start, 0)
    return m


def _timer_event(ts, event_type):
    m = EventMessage()
    m.event = Event.TIMER
    m.event_type = event_type
    m.timestamp = ts
    return m


def _set_cadence(msg, cad):
    """Average and maximum running cadence from (avg, max) steps/min, or nothing for None."""
    if cad is None:
        return
    avg, mx = cad
    whole, frac = steps_per_min_to_fit(avg)
    msg.avg_cadence = whole
    msg.avg_fractional_cadence = frac
    whole, frac = steps_per_min_to_fit(mx)
    msg.max_cadence = whole
    msg.max_fractional_cadence = frac


def activity_bytes(session, start):
    """A FIT activity: laps per step, cadence records, session and activity messages."""
    b = FitFileBuilder(auto_define=True, min_string_size=16)
    b.add(_file_id(FileType.ACTIVITY, start))
    b.add(_timer_event(_ms(start, 0), EventType.START))

    ticks = {t: spm for t, spm, _g in session.ticks}
    moments = sorted({0, session.end_ms, *ticks, *(s.start_ms for s in session.steps),
                      *(s.end_ms for s in session.steps)})
    pauses = list(session.pauses)
    records_at = [t for t in moments if not any(a < t < z for a, z in pauses)]
    laps = sorted(session.steps, key=lambda s: s.end_ms)
    stops = []
    for a, z in pauses:
        stops += [(a, EventType.STOP_ALL), (z, EventType.START)]
    stops.sort(key=lambda e: e[0])      # by time only (EventTypes do not compare); stable

    ri = li = pi = 0
    lap_msgs = []
    while ri < len(records_at) or li < len(laps) or pi < len(stops):
        # Chronological; at equal times: record, then lap, then timer event.
        nxt = [(records_at[ri], 0) if ri < len(records_at) else None,
               (laps[li].end_ms, 1) if li < len(laps) else None,
               (stops[pi][0], 2) if pi < len(stops) else None]
        t, which = min(x for x in nxt if x is not None)
        if which == 0:
            r = RecordMessage()
            r.timestamp = _ms(start, t)
            if t in ticks:                      # 0 is a reading too (no stride yet)
                whole, frac = steps_per_min_to_fit(ticks[t])
                r.cadence = whole
                r.fractional_cadence = frac
            b.add(r)
            ri += 1
        elif which == 1:
            lap = _lap(session, laps[li], start, len(lap_msgs))
            lap_msgs.append(lap)
            b.add(lap)
            li += 1
        else:
            b.add(_timer_event(_ms(start, t), stops[pi][1]))
            pi += 1

    end = _ms(start, session.end_ms)
    b.add(_timer_event(end, EventType.STOP_ALL))
    timer_s = (session.end_ms - session.paused_ms) / 1000.0
    s = SessionMessage()
    s.message_index = 0
    s.timestamp = end
    s.start_time = _ms(start, 0)
    s.event = Event.SESSION
    s.event_type = EventType.STOP
    s.trigger = SessionTrigger.ACTIVITY_END
    s.sport = Sport.RUNNING
    s.sub_sport = SubSport.GENERIC
    s.total_elapsed_time = session.end_ms / 1000.0
    s.total_timer_time = timer_s
    s.first_lap_index = 0
    s.num_laps = len(lap_msgs)
    _set_cadence(s, session.cadence())
    b.add(s)
    a = ActivityMessage()
    a.timestamp = end
    a.total_timer_time = timer_s
    a.num_sessions = 1
    a.type = Activity.MANUAL
    a.event = Event.ACTIVITY
    a.event_type = EventType.STOP
    b.add(a)
    return b.build().to_bytes()


def _lap(session, step, start, index):
    lap = LapMessage()
    lap.message_index = index
    lap.timestamp = _ms(start, step.end_ms)
    lap.start_time = _ms(start, step.start_ms)
    lap.event = Event.LAP
    lap.event_type = EventType.STOP
    lap.sport = Sport.RUNNING
    lap.total_elapsed_time = step.elapsed_ms / 1000.0
    lap.total_timer_time = step.timer_ms / 1000.0
    lap.intensity = INTENSITY[step.intensity]
    lap.lap_trigger = LAP_TRIGGER.get(step.reason, LapTrigger.MANUAL)
    lap.workout_step_index = step.index
    if step.kind == "sprint":
        _set_cadence(lap, session.step_cadence(step))
        rep = session.rep_in(step)
        if rep and rep.get("steps"):
            lap.total_strides = int(rep["steps"]) // 2
    return lap


# ---- plans as workouts --------------------------------------------------------------
def plan_intensities(steps):
    """Intensity per flattened plan step, by the same rule as a session's laps."""
    from host_tools.session_model import Session
    events = [(0, "step_start", {"set": s["set"], "step": s["name"], "kind": s["kind"],
                                 "index": s["index"]}) for s in steps]
    return [s.intensity for s in Session({}, events).steps]


def workout_bytes(name, steps, created):
    """A FIT workout: one step per flattened plan step; taps become open steps."""
    b = FitFileBuilder(auto_define=True, min_string_size=16)
    b.add(_file_id(FileType.WORKOUT, created))
    w = WorkoutMessage()
    w.workout_name = name[:40]
    w.sport = Sport.RUNNING
    w.num_valid_steps = len(steps)
    b.add(w)
    for s, intensity in zip(steps, plan_intensities(steps)):
        m = WorkoutStepMessage()
        m.message_index = s["index"]
        m.workout_step_name = s["name"][:40]
        m.intensity = INTENSITY[intensity]
        if s["kind"] == "timed":
            m.duration_type = WorkoutStepDuration.TIME
            m.duration_time = s["duration_ms"] / 1000.0
        elif s["kind"] == "recovery":
            # Up to max_s, and the lap button moves on earlier (the device allows it from min_s).
            m.duration_type = WorkoutStepDuration.TIME
            m.duration_time = s["max_ms"] / 1000.0
        else:   # open and sprint steps wait for the lap button
            m.duration_type = WorkoutStepDuration.OPEN
            m.duration_value = 0
        m.target_type = WorkoutStepTarget.OPEN
        m.target_value = 0
        if s.get("note"):
            m.notes = s["note"][:50]
        b.add(m)
    return b.build().to_bytes()
