"""``sprintwatch log show FILE``: decode a session log with the firmware's own reader."""
import datetime
import json
import sys

from host_tools import firmware  # noqa: F401  (puts firmware/ on sys.path)
from swcore import logformat


def register(sub):
    p = sub.add_parser("log", help="read session log files (.swlog)",
                       description="Read session log files written by the device.")
    logsub = p.add_subparsers(dest="log_command", metavar="ACTION")
    logsub.required = True
    show = logsub.add_parser("show", help="print a decoded session log",
                             description="Print a session log: its header, every record, and any "
                                         "problem found (bad CRC, truncated tail). Exit 1 when "
                                         "there are problems.")
    show.add_argument("file", help="session log file (e.g. out/run/session-0001.swlog)")
    show.add_argument("--json", action="store_true", help="one JSON document instead of text")
    show.set_defaults(func=show_command)
    export = logsub.add_parser("export-trace", help="turn a raw capture session into a trace file",
                               description="Write the accelerometer samples a raw capture session "
                                           "(plan \"capture\": true) logged as TRACE.csv in the format of "
                                           "../shared/traces/FORMAT.md, and TRACE.truth.json beside it with "
                                           "the taps (and every other press, and the reps) as labels.")
    export.add_argument("file", help="session log file (.swlog) of a capture session")
    export.add_argument("out", help="trace file to write (CSV); the labels go to the same name .truth.json")
    export.set_defaults(func=export_trace_command)


def decode_file(path):
    """``(header, records, problems)`` of a session file; SystemExit if unreadable."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise SystemExit("error: cannot read %s: %s" % (path, e.strerror or e))
    return logformat.read_session(data)


def as_json(header, records, problems):
    out = []
    for t, event, fields in records:
        rec = {"t_ms": t, "event": event}
        rec.update(fields)
        out.append(rec)
    return {"header": header, "records": out, "problems": problems}


def _clock(ms):
    s, ms = divmod(ms, 1000)
    return "%d:%02d:%02d.%03d" % (s // 3600, s // 60 % 60, s % 60, ms)


def as_text(header, records, problems):
    lines = []
    if header is None:
        lines.append("header: unreadable")
    else:
        when = "wall clock not set"
        if header.get("wall_s") is not None:
            when = datetime.datetime.fromtimestamp(header["wall_s"], datetime.timezone.utc) \
                .strftime("started %Y-%m-%d %H:%M:%S UTC")
        plan = "%s (%s)" % (header.get("plan"), "built-in" if header.get("builtin")
                            else "plan CRC %08x" % header.get("plan_hash", 0))
        lines.append("session %s  boot %s  firmware %s  format %s" % (
            header.get("session"), header.get("boot"), header.get("fw"), header.get("format")))
        lines.append("plan %s, %s" % (plan, when))
    for t, event, fields in records:
        detail = " ".join("%s=%s" % (k, json.dumps(fields[k])) for k in sorted(fields))
        lines.append("%14s  %-14s %s" % (_clock(t), event, detail))
    lines.append("%d records" % len(records))
    for p in problems:
        lines.append("problem: %s" % p)
    return "\n".join(lines)


def show_command(args):
    header, records, problems = decode_file(args.file)
    if header is None and not args.json:   # not a session at all: one line says why
        print("error: %s is not a readable session log (%s)" % (args.file, "; ".join(problems)), file=sys.stderr)
        return 1
    if args.json:
        json.dump(as_json(header, records, problems), sys.stdout, indent=1)
        print()
    else:
        print(as_text(header, records, problems))
    return 1 if problems or header is None else 0


def capture_trace(records):
    """``(rows, labels)`` from a session's records: rows (t_ms, ax, ay, az) from the ``accel_raw``
    blocks, times from the first sample; labels: presses, reps and where capture stopped."""
    rows = []
    t0 = None
    rate = None
    last = -1
    for t, event, fields in records:
        if event != "accel_raw":
            continue
        rate = fields["rate_hz"]
        if t0 is None:
            t0 = t
        for i, (x, y, z) in enumerate(fields["samples"]):
            ts = t - t0 + i * 1000 // rate
            if ts <= last:          # a block that overlaps the last one (clock step): keep time increasing
                ts = last + 1
            rows.append((ts, x, y, z))
            last = ts
    if t0 is None:
        return rows, None
    presses, taps, reps, stops = [], [], [], []
    for t, event, fields in records:
        at = round((t - t0) / 1000, 3)
        if event == "gesture":
            presses.append({"t_s": at, "gesture": fields.get("gesture")})
            if fields.get("gesture") == "tap":
                taps.append(at)
        elif event == "rep" and "start_ms" in fields:
            start = (fields["start_ms"] - t0) / 1000
            reps.append({"rep": fields.get("rep"), "start_s": round(start, 3),
                         "end_s": round(start + fields.get("duration_ms", 0) / 1000, 3),
                         "reason": fields.get("reason"), "motion": fields.get("motion")})
        elif event == "capture_stopped":
            stops.append({"t_s": at, "why": fields.get("why")})
    labels = {"taps_s": taps, "presses": presses, "reps": reps, "capture_stopped": stops, "rate_hz": rate}
    return rows, labels


def export_trace_command(args):
    from pathlib import Path
    header, records, problems = decode_file(args.file)
    if header is None:
        print("error: %s: not a session log (%s)" % (args.file, "; ".join(problems) or "bad header"), file=sys.stderr)
        return 2
    rows, labels = capture_trace(records)
    if not rows:
        print("error: %s: no raw capture in this session (plan \"capture\": true records it)" % args.file,
              file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w") as f:
        f.write("t_ms,ax,ay,az\n")
        for row in rows:
            f.write("%d,%d,%d,%d\n" % row)
    truth = {"placement": None, "activity": "capture (plan %s)" % header.get("plan"), "steps": None,
             "steps_note": "not counted; the taps and reps below are the labels",
             "rate_hz": labels["rate_hz"], "duration_s": round(rows[-1][0] / 1000, 3), "samples": len(rows),
             "source": "sprintwatch raw capture, session %s (firmware %s)" % (header.get("session"), header.get("fw")),
             "license": None}
    truth.update(labels)
    truth_path = out.with_name(out.name[:-4] + ".truth.json" if out.name.endswith(".csv") else out.name + ".truth.json")
    truth_path.write_text(json.dumps(truth, indent=1))
    print("wrote %s (%d samples at %s Hz, %.1f s) and %s (%d taps, %d reps)%s" % (
        out, len(rows), labels["rate_hz"], rows[-1][0] / 1000, truth_path, len(labels["taps_s"]), len(labels["reps"]),
        "; problems: " + "; ".join(problems) if problems else ""))
    return 0
