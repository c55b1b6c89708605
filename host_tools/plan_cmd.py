"""``sprintwatch plan check|show``: the device's own plan parser, run on the laptop."""
import json
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
    s = psub.add_parser("show", help="print a plan's steps (the built-in one without FILE)",
                        description="Print the flattened steps of a plan, or of the built-in session.")
    s.add_argument("file", nargs="?", help="plan JSON file (default: the built-in session)")
    s.add_argument("--json", action="store_true", help="print the plan JSON instead of the step list")
    s.set_defaults(func=show)
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


def show(args):
    if args.file:
        text, (name, steps) = load(args.file)
        doc = json.loads(text)
    else:
        doc = DEFAULT_PLAN
        name, steps = planmod.parse(doc)
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(name)
    for s in steps:
        limit = {"timed": lambda: "%ds" % (s["duration_ms"] // 1000),
                 "open": lambda: "until tap",
                 "sprint": lambda: "tap to go, up to %ds" % (s["max_ms"] // 1000),
                 "recovery": lambda: "%d-%ds" % (s["min_ms"] // 1000, s["max_ms"] // 1000)}[s["kind"]]()
        rep = " %d/%d" % (s["rep"], s["of"]) if "rep" in s else ""
        print("  %2d  %-24s %-8s %s%s" % (s["index"], s["name"], s["kind"], limit, rep))
    return 0


def upload(args):
    from host_tools.sync_cmd import upload_plan
    check(args)  # exits 1 with the parser's message when the plan is bad
    text, _parsed = load(args.file)
    return upload_plan(args, text)
