"""``sprintwatch plan check|show|list``: the device's own plan parser, run on the laptop,
and the built-in library (``host_tools.plan_library``: the seed session and the beginner path)."""
import json
import os
import sys

from host_tools import firmware  # noqa: F401  (puts the firmware on sys.path)
from swcore import plan as planmod
from swcore.default_plan import DEFAULT_PLAN


def register(sub):
    p = sub.add_parser("plan", help="check or show session plans",
                       description="Check or show session plans (JSON, see docs/plan-format.md).")
    psub = p.add_subparsers(dest="plan_command", metavar="ACTION")
    psub.required = True
    c = psub.add_parser("check", help="validate a plan file exactly as the device does",
                        description="Validate a plan file with the firmware's own parser. "
                                    "Exit 0 when valid, 1 with a message naming the set, step and field.")
    c.add_argument("file", help="plan JSON file")
    c.set_defaults(func=check)
    s = psub.add_parser("show", help="print a plan's steps (a file, a library NAME, or the built-in one)",
                        description="Print the flattened steps of a plan file, of a library plan "
                                    "(with its warnings; see `plan list`), or of the built-in session.")
    s.add_argument("file", nargs="?", help="plan JSON file or library NAME (default: the built-in session)")
    s.add_argument("--json", action="store_true", help="print the plan JSON instead of the step list")
    s.set_defaults(func=show)
    ls = psub.add_parser("list", help="the built-in plan library: the seed session and the beginner path",
                         description="List the library's plans with their level and the seed's warnings; "
                                     "`plan show NAME` prints one, `flash --plan NAME` installs one.")
    ls.set_defaults(func=list_plans)
    u = psub.add_parser("upload", help="check a plan, then send it to the device over Bluetooth",
                        description="Run `plan check` on FILE; if it passes, send it to the device, "
                                    "which checks it again with the same parser and installs it.")
    u.add_argument("file", help="plan JSON file")
    from host_tools.sync_cmd import add_device_args
    add_device_args(u)
    u.set_defaults(func=upload)


def load(path):
    """Parse a plan file; exits 1 with the parser's message when it is bad."""
    try:
        with open(path, "rb") as f:
            data = f.read(planmod.MAX_PLAN_BYTES + 1)   # the parser refuses anything bigger
    except OSError as e:
        print("plan error: cannot read %s: %s" % (path, e.strerror), file=sys.stderr)
        raise SystemExit(1)
    try:
        parsed = planmod.parse(data)   # bytes: the parser checks the UTF-8, as on the device
        return data.decode("utf-8-sig"), parsed
    except planmod.PlanError as e:
        print("%s: %s" % (path, e), file=sys.stderr)
        raise SystemExit(1)


def check(args):
    _text, (name, steps) = load(args.file)
    reps = sum(1 for s in steps if s["kind"] == "sprint")
    print("%s: ok: %r, %d steps, %d sprints" % (args.file, name, len(steps), reps))
    return 0


def list_plans(args):
    from host_tools import plan_library as lib
    print("Plan library (sprintwatch plan show NAME; sprintwatch flash --plan NAME):")
    for key in lib.names():
        doc = lib.get(key)
        _name, steps = planmod.parse(doc)
        reps = sum(1 for s in steps if s["kind"] == "sprint")
        minutes = _minutes(steps)
        stage = " (beginner path %d/%d)" % (lib.PATH.index(key) + 1, len(lib.PATH)) if key in lib.PATH else ""
        print("\n  %-20s %s, %s%s" % (key, doc["name"], doc.get("level", "any level"), stage))
        print("  %-20s %s, about %d min" % ("", "%d sprints" % reps if reps else "no sprints", minutes))
        print("  %-20s ! %s" % ("", lib.warnings(key)[0]))
    print("\nBeginner path: %s" % " -> ".join(lib.PATH))
    return 0


def _minutes(steps):
    ms = 0
    for s in steps:
        ms += s.get("duration_ms") or s.get("min_ms") or (s.get("max_ms", 0) // 2 if s["kind"] == "sprint" else 0)
    return round(ms / 60000)


def show(args):
    from host_tools import plan_library as lib
    warnings = ()
    if args.file and args.file in lib.ENTRIES and not os.path.exists(args.file):
        doc = lib.get(args.file)
        name, steps = planmod.parse(doc)
        warnings = lib.warnings(args.file)
    elif args.file:
        text, (name, steps) = load(args.file)
        doc = json.loads(text)
    else:
        doc = DEFAULT_PLAN
        name, steps = planmod.parse(doc)
        warnings = lib.warnings("descending-sprints")   # the built-in session is the seed's
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(name + ("  [%s]" % doc["level"] if doc.get("level") else ""))
    for w in warnings:
        print("  ! %s" % w)
    for s in steps:
        limit = {"timed": lambda: "%ds" % (s["duration_ms"] // 1000),
                 "open": lambda: "until tap",
                 "sprint": lambda: "tap to go, up to %ds" % (s["max_ms"] // 1000),
                 "recovery": lambda: "%d-%ds" % (s["min_ms"] // 1000, s["max_ms"] // 1000)}[s["kind"]]()
        rep = " %d/%d" % (s["rep"], s["of"]) if "rep" in s else ""
        print("  %2d  %-24s %-8s %s%s" % (s["index"], s["name"], s["kind"], limit, rep))
    if args.file in lib.ENTRIES and lib.next_stage(args.file):
        print("next on the path: %s (sprintwatch next says when)" % lib.next_stage(args.file))
    return 0


def upload(args):
    from host_tools.sync_cmd import upload_plan
    check(args)  # exits 1 with the parser's message when the plan is bad
    text, _parsed = load(args.file)
    return upload_plan(args, text)
