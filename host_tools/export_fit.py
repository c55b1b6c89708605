"""FIT files through fit-tool (BSD-3-Clause): a session as an activity, a plan as a workout.

The mapping is documented in docs/export.md. Garmin's own Python SDK writes FIT too,
but its licence limits use to the licensee's internal business purposes and forbids
passing it on, which does not fit an MIT project that users install; fit-tool has no
such terms.
"""
import zlib

from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.activity_message import ActivityMessage
from fit_tool.profile.messages.device_info_message import DeviceInfoMessage
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

from host_tools.session_model import moving_seconds, step_distances, steps_per_min_to_fit

INTENSITY = {"warmup": Intensity.WARMUP, "active": Intensity.ACTIVE,
             "recovery": Intensity.RECOVERY, "cooldown": Intensity.COOLDOWN}
# What ended a step -> FIT lap trigger. A sensor-detected stop has no FIT trigger of its
# own: "time" (automatic) is the nearest.
LAP_TRIGGER = {"tap": LapTrigger.MANUAL, "skipped": LapTrigger.MANUAL, "time": LapTrigger.TIME,
               "max": LapTrigger.TIME, "motion": LapTrigger.TIME,
               "session_end": LapTrigger.SESSION_END}
SERIAL = 0x5357  # "SW": a session whose device is not known (a log file, the simulator)
FIT_EPOCH_S = 631065600          # 1989-12-31T00:00:00Z, where FIT's times count from
NAME_BYTES = 32                  # workout and step names (the string field's size)
NOTE_BYTES = 80                  # a step's note, as the watch shows it during the step


def serial_number(header):
    """One number per device: the hex of its id (``sw-8bfd7142``), else a CRC of the id,
    else SERIAL when the session does not say which device recorded it."""
    dev = str(header.get("device_id") or "")
    try:
        n = int(dev[3:], 16) if dev.startswith("sw-") else 0
    except ValueError:
        n = 0
    if not 0 < n < 0xFFFFFFFF:
        n = (zlib.crc32(dev.encode()) or 1) if dev else SERIAL
    return n


def software_version(fw):
    """"0.1.0" -> 0.1 (FIT keeps major.minor in hundredths), None when unreadable."""
    try:
        major, minor = (int(x) for x in str(fw).split(".")[:2])
    except ValueError:
        return None
    return float("%d.%d" % (major, minor)) if 0 <= major < 600 and 0 <= minor < 100 else None


def clip_words(text, limit, more=""):
    """``text`` in at most ``limit`` UTF-8 bytes, cut at a word boundary (never mid-word),
    ``more`` (e.g. an ellipsis) appended when something was left out."""
    text = " ".join(str(text).split())
    if len(text.encode()) <= limit:
        return text
    limit -= len(more.encode())
    out = ""
    for word in text.split(" "):
        longer = (out + " " + word) if out else word
        if len(longer.encode()) > limit:
            break
        out = longer
    if not out:       # one word longer than the field: cut at a character, never a byte
        out = text.encode()[:limit].decode("utf-8", "ignore")
    return out.rstrip(",;:-") + more


def _ms(start, t_ms):
    """Session clock -> fit-tool's timestamps (ms since the Unix epoch)."""
    return int(start.timestamp() * 1000) + int(t_ms)


def _file_id(kind, start, serial=SERIAL):
    m = FileIdMessage()
    m.type = kind
    m.manufacturer = Manufacturer.DEVELOPMENT.value
    m.product = 0
    m.serial_number = serial
    m.time_created = _ms(start, 0)
    return m


def _device_info(header, start, serial):
    m = DeviceInfoMessage()
    m.timestamp = _ms(start, 0)
    m.device_index = 0               # the creator: the Sprintwatch itself
    m.manufacturer = Manufacturer.DEVELOPMENT.value
    m.product = 0
    m.serial_number = serial
    version = software_version(header.get("fw"))
    if version is not None:
        m.software_version = version
    m.product_name = clip_words("Sprintwatch %s" % (header.get("fw") or ""), 32)
    return m


def _distance_at(session, distances, t):
    """Metres covered by ``t``: known sprint distances, spread evenly over each run."""
    total = 0.0
    for i, d in distances.items():
        step = session.steps[i]
        rep = session.rep_in(step)
        go = rep.get("start_ms", step.start_ms) if rep else step.start_ms
        if t >= step.end_ms:
            total += d
        elif t > go:
            total += d * (t - go) / max(1, step.end_ms - go)
    return total


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
    serial = serial_number(session.header)
    b.add(_file_id(FileType.ACTIVITY, start, serial))
    b.add(_device_info(session.header, start, serial))
    b.add(_timer_event(_ms(start, 0), EventType.START))
    distances = step_distances(session)
    # Laps name the step of the workout export-plan writes (a repeat block's steps once).
    _entries, workout_index = workout_layout(
        [{"index": st.index, "rep": st.rep, "of": st.of, "name": st.name, "kind": st.kind}
         for st in session.steps])

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
            if distances:
                r.distance = _distance_at(session, distances, t)
            b.add(r)
            ri += 1
        elif which == 1:
            lap = _lap(session, laps[li], start, len(lap_msgs), distances.get(session.steps.index(laps[li])))
            lap.workout_step_index = workout_index.get(laps[li].index, laps[li].index)
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
    if distances:
        s.total_distance = sum(distances.values())
    _set_cadence(s, session.cadence())
    b.add(s)
    a = ActivityMessage()
    a.timestamp = end
    a.total_timer_time = timer_s
    a.num_sessions = 1
    a.type = Activity.MANUAL
    a.event = Event.ACTIVITY
    a.event_type = EventType.STOP
    local = start.astimezone()          # the laptop's time zone at the session's start
    a.local_timestamp = int(end / 1000 + local.utcoffset().total_seconds()) - FIT_EPOCH_S
    b.add(a)
    return b.build().to_bytes()


def _lap(session, step, start, index, distance=None):
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
    if distance:
        lap.total_distance = distance
        speed = distance / max(0.001, moving_seconds(session, step))
        lap.avg_speed = lap.enhanced_avg_speed = speed
    return lap


# ---- plans as workouts --------------------------------------------------------------
def plan_intensities(steps):
    """Intensity per flattened plan step, by the same rule as a session's laps."""
    from host_tools.session_model import Session
    events = [(0, "step_start", {"set": s["set"], "step": s["name"], "kind": s["kind"],
                                 "index": s["index"]}) for s in steps]
    return [s.intensity for s in Session({}, events).steps]


def workout_layout(steps):
    """The FIT workout's steps for a flattened plan: each repeat block once, then a
    repeat step; returns (entries, {flattened index: workout step index}).

    An entry is ("step", plan step) or ("repeat", first workout index of the block, count).
    Works from the ``rep``/``of`` the parser gives each step of a block (and, for a
    session's steps, tolerates a cut end and a step started twice after a power cut).
    """
    entries, where = [], {}
    i = 0
    while i < len(steps):
        s = steps[i]
        if not s.get("rep"):
            if s["index"] not in where:
                where[s["index"]] = len(entries)
                entries.append(("step", s))
            i += 1
            continue
        j = i        # the block: steps with rep, of the same `of`, reps never going back
        while j < len(steps) and steps[j].get("of") == s.get("of") and steps[j].get("rep") and \
                steps[j]["rep"] >= steps[j - 1 if j > i else i]["rep"]:
            j += 1
        block = steps[i:j]
        first = block[0]["index"]
        second = [b["index"] for b in block if b["rep"] == block[0]["rep"] + 1]
        length = (second[0] - first) if second else (max(b["index"] for b in block) - first + 1)
        base = len(entries)
        for b in block:
            pos = (b["index"] - first) % max(1, length)
            if b["rep"] == block[0]["rep"] and len(entries) - base == pos:
                entries.append(("step", b))
            where[b["index"]] = base + pos
        entries.append(("repeat", base, int(s["of"])))
        i = j
    return entries, where


def _step_name(s):
    """The step's name with its effort (``Sprint 80%``): the watch shows the name during
    the step, where a runner looks; FIT's targets have no "% of maximal effort"."""
    name = s["name"]
    if s.get("effort_pct"):
        effort = " %g%%" % s["effort_pct"]
        return clip_words(name, NAME_BYTES - len(effort)) + effort
    return clip_words(name, NAME_BYTES)


def workout_bytes(name, steps, created):
    """A FIT workout: each plan step once, a repeat block as its steps plus a repeat step
    (6 x sprint + walk back = 3 workout steps); taps become open steps."""
    b = FitFileBuilder(auto_define=True, min_string_size=16)
    b.add(_file_id(FileType.WORKOUT, created))
    entries, _where = workout_layout(steps)
    w = WorkoutMessage()
    w.workout_name = clip_words(name, NAME_BYTES)
    w.sport = Sport.RUNNING
    w.num_valid_steps = len(entries)
    b.add(w)
    intensity_of = dict(zip((s["index"] for s in steps), plan_intensities(steps)))
    for n, entry in enumerate(entries):
        m = WorkoutStepMessage()
        m.message_index = n
        if entry[0] == "repeat":
            _kind, back_to, count = entry
            m.duration_type = WorkoutStepDuration.REPEAT_UNTIL_STEPS_CMPLT
            m.duration_step = back_to
            m.target_repeat_steps = count
            b.add(m)
            continue
        s = entry[1]
        m.workout_step_name = _step_name(s)
        m.intensity = INTENSITY[intensity_of[s["index"]]]
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
            m.notes = clip_words(s["note"], NOTE_BYTES, "\u2026")
        b.add(m)
    return b.build().to_bytes()
