"""``sprintwatch export`` and ``export-plan``: sessions as FIT, TCX, CSV or JSON; plans as FIT workouts.

The mapping from Sprintwatch's events to each format is in docs/export.md.
"""
import csv
import datetime
import io
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from host_tools.session_model import Session, moving_seconds, step_distances, steps_per_min_to_fit
from host_tools.session_source import SessionNotFound, load_session, start_time

FORMATS = ("fit", "tcx", "csv", "json")
TCX_NS = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
TCX_EXT = "http://www.garmin.com/xmlschemas/ActivityExtension/v2"
CSV_COLUMNS = ("row", "index", "set", "name", "kind", "intensity", "rep", "start_s", "end_s",
               "duration_s", "paused_s", "reason", "steps", "cadence_spm", "peak_g", "reaction_ms",
               "distance_m", "pace_s_per_km")


def register(sub):
    p = sub.add_parser("export", help="export a session as FIT, TCX, CSV or JSON",
                       description="Export a session for Strava, Garmin Connect or a spreadsheet.")
    p.add_argument("session", help="session id from `sprintwatch sessions` (ID or DEVICE:ID), "
                   "session log file, sim output folder, events.jsonl or JSON export")
    p.add_argument("--format", choices=FORMATS, default="fit", help="output format (default fit)")
    p.add_argument("--out", help="output file (default: beside the input, or stdout for csv/json with -)")
    p.add_argument("--start", help="wall-clock start (ISO 8601, e.g. 2026-05-01T07:30:00Z) when the "
                                   "device's clock was never set; `--start file` takes the file's time")
    p.add_argument("--db", help="sync database for session ids (default: the one sprintwatch sync uses)")
    p.set_defaults(func=export_command)
    w = sub.add_parser("export-plan", help="write a session plan as a FIT workout for a Garmin watch",
                       description="Write a plan as a FIT workout: tapped steps become open steps.")
    w.add_argument("plan", help="plan JSON file (checked first)")
    w.add_argument("--format", choices=("fit",), default="fit")
    w.add_argument("--out", help="output file (default: PLAN with .fit)")
    w.set_defaults(func=export_plan_command)


# ---- writers -------------------------------------------------------------------------
def to_json(header, events):
    doc = {"header": header,
           "events": [dict({"t_ms": t, "event": ev}, **f) for t, ev, f in events]}
    return (json.dumps(doc, indent=1) + "\n").encode()


def _round(v, n=3):
    return "" if v is None else round(v, n)


def _pace(distance, seconds):
    """Seconds per km, or "" without a distance."""
    return round(seconds / distance * 1000, 1) if distance and seconds > 0 else ""


def to_csv(session):
    out = io.StringIO()
    w = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    distances = step_distances(session)
    rep_distance = {}
    for i, s in enumerate(session.steps):
        d = distances.get(i)
        moving = moving_seconds(session, s) if d else 0
        w.writerow({"row": "step", "index": s.index, "set": s.set, "name": s.name, "kind": s.kind,
                    "intensity": s.intensity, "rep": s.rep or "", "start_s": s.start_ms / 1000,
                    "end_s": s.end_ms / 1000, "duration_s": s.timer_ms / 1000,
                    "paused_s": s.paused_ms / 1000, "reason": s.reason,
                    "distance_m": d or "", "pace_s_per_km": _pace(d, moving)})
        rep = session.rep_in(s) if d else None
        if rep is not None:
            rep_distance[id(rep)] = d
    for r in session.reps:
        d = rep_distance.get(id(r))
        w.writerow({"row": "rep", "rep": r.get("rep", ""), "kind": "sprint",
                    "start_s": r.get("start_ms", 0) / 1000, "end_s": r["t_ms"] / 1000,
                    "duration_s": r.get("duration_ms", 0) / 1000, "reason": r.get("reason", ""),
                    "steps": r.get("steps", ""), "cadence_spm": _round(r.get("cadence_spm")),
                    "peak_g": _round(r.get("peak_g")), "reaction_ms": r.get("reaction_ms", ""),
                    "distance_m": d or "", "pace_s_per_km": _pace(d, r.get("duration_ms", 0) / 1000)})
    return out.getvalue().encode()


def _iso(start, t_ms):
    return (start + datetime.timedelta(milliseconds=t_ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def to_tcx(session, start):
    ET.register_namespace("", TCX_NS)
    ET.register_namespace("ax", TCX_EXT)
    q = lambda tag: "{%s}%s" % (TCX_NS, tag)  # noqa: E731
    x = lambda tag: "{%s}%s" % (TCX_EXT, tag)  # noqa: E731
    root = ET.Element(q("TrainingCenterDatabase"))
    act = ET.SubElement(ET.SubElement(root, q("Activities")), q("Activity"), Sport="Running")
    ET.SubElement(act, q("Id")).text = _iso(start, 0)
    distances = step_distances(session)
    covered = 0.0
    for i, step in enumerate(session.steps):
        lap = ET.SubElement(act, q("Lap"), StartTime=_iso(start, step.start_ms))
        ET.SubElement(lap, q("TotalTimeSeconds")).text = "%.3f" % (step.timer_ms / 1000)
        ET.SubElement(lap, q("DistanceMeters")).text = "%g" % distances.get(i, 0)
        ET.SubElement(lap, q("Calories")).text = "0"
        ET.SubElement(lap, q("Intensity")).text = "Resting" if step.intensity == "recovery" else "Active"
        trigger = "Manual" if step.reason in ("tap", "skipped") else "Time"
        ET.SubElement(lap, q("TriggerMethod")).text = trigger
        ticks = session.ticks_between(step.start_ms, step.end_ms)
        track = ET.SubElement(lap, q("Track"))
        for t in sorted({step.start_ms, *(t for t, _s, _g in ticks), step.end_ms}):
            pt = ET.SubElement(track, q("Trackpoint"))
            ET.SubElement(pt, q("Time")).text = _iso(start, t)
            if distances:       # cumulative, spread evenly over each sprint's run
                run_from = (session.rep_in(step) or {}).get("start_ms", step.start_ms)
                part = distances.get(i, 0) * min(1, max(0, (t - run_from) / max(1, step.end_ms - run_from)))
                ET.SubElement(pt, q("DistanceMeters")).text = "%.1f" % (covered + part)
            spm = next((s for tt, s, _g in ticks if tt == t), None)
            if spm:
                ext = ET.SubElement(ET.SubElement(pt, q("Extensions")), x("TPX"))
                ET.SubElement(ext, x("RunCadence")).text = str(steps_per_min_to_fit(spm)[0])
        covered += distances.get(i, 0)
        ET.SubElement(lap, q("Notes")).text = "%s: %s" % (step.set, step.name)
        cad = session.step_cadence(step) if step.kind == "sprint" else None
        if cad or i in distances:
            lx = ET.SubElement(ET.SubElement(lap, q("Extensions")), x("LX"))
            if i in distances:
                speed = distances[i] / max(0.001, moving_seconds(session, step))
                ET.SubElement(lx, x("AvgSpeed")).text = "%.3f" % speed
            if cad:
                ET.SubElement(lx, x("AvgRunCadence")).text = str(steps_per_min_to_fit(cad[0])[0])
                ET.SubElement(lx, x("MaxRunCadence")).text = str(steps_per_min_to_fit(cad[1])[0])
    ET.SubElement(act, q("Notes")).text = session.plan_name
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


def export_bytes(header, events, fmt, start=None):
    """The session in ``fmt`` as bytes."""
    if fmt == "json":
        return to_json(header, events)
    session = Session(header, events)
    if fmt == "csv":
        return to_csv(session)
    start = start or start_time(session)
    if fmt == "tcx":
        return to_tcx(session, start)
    from host_tools import export_fit     # fit_tool: only for FIT
    return export_fit.activity_bytes(session, start)


def default_out(ref, fmt):
    p = Path(ref)
    if p.is_dir():
        return p / ("session.%s" % fmt)
    return p.with_suffix("." + fmt) if p.suffix != "." + fmt else p.with_name(p.stem + "-export." + fmt)


def clock_known(header):
    return header.get("wall_s") is not None and header.get("clock_set", True)


def _parse_start(text, header=None):
    if not text:
        return None
    if text == "file":      # what the user chose: the file's time (end of file minus the session)
        fallback = (header or {}).get("file_start")
        if fallback is None:
            raise SystemExit("error: --start file: this session has no file time; give an ISO 8601 time")
        return datetime.datetime.fromtimestamp(fallback, datetime.timezone.utc).replace(microsecond=0)
    try:
        dt = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SystemExit("error: --start: %r is not an ISO 8601 time" % text)
    return dt if dt.tzinfo else dt.replace(tzinfo=datetime.timezone.utc)


def export_command(args):
    try:
        header, events = load_session(args.session, args.db)
    except SessionNotFound as e:
        print("export error: %s" % e, file=sys.stderr)
        return 1
    start = _parse_start(args.start, header)
    if args.format in ("fit", "tcx") and start is None and not clock_known(header):
        print("export error: the device's clock was not set when %s was recorded, so its start "
              "time is unknown. Give it: --start 2026-05-01T07:30:00Z (ISO 8601; your local time "
              "with an offset such as +02:00 works too), or --start file to take the file's time "
              "(%s)." % (args.session, _file_time(header)), file=sys.stderr)
        return 1
    data = export_bytes(header, events, args.format, start)
    if args.out == "-":
        sys.stdout.buffer.write(data)
        return 0
    out = Path(args.out) if args.out else default_out(args.session, args.format)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    print("wrote %s (%d bytes)" % (out, len(data)))
    return 0


def _file_time(header):
    t = header.get("file_start")
    if t is None:
        return "not known"
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def export_plan_command(args):
    from host_tools import export_fit
    from host_tools.plan_cmd import load
    _text, (name, steps) = load(args.plan)
    data = export_fit.workout_bytes(name, steps, datetime.datetime.now(datetime.timezone.utc))
    out = Path(args.out) if args.out else Path(args.plan).with_suffix(".fit")
    out.write_bytes(data)
    entries, _ = export_fit.workout_layout(steps)
    print("wrote %s: workout %r, %d workout steps (%d as run)" % (out, name, len(entries), len(steps)))
    print("to load it on a Garmin watch: connect it over USB and copy the file into GARMIN/NewFiles")
    return 0
