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
