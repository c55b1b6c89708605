"""``sprintwatch analyze TRACE.csv``: run the firmware's motion pipeline over a trace.

The very pipeline the board runs (swcore.motion), fed the trace resampled to the
sensor rate by the firmware's own reader (swcore.trace). Prints steps, run bouts
(reps) with their figures, and the activity timeline (still / walk / run).
"""
import json
import sys

from host_tools import firmware  # noqa: F401  (puts firmware/ on sys.path)
from swcore.motion import MotionPipeline, MOVE_STOP, RUN, STATE_NAMES
from swcore.trace import TraceReader, TraceError


# The firmware constants the benchmark's leave-one-person-out search may override.
TUNABLE = ("REGULAR_PCT", "RUN_SPM", "RUN_HEIGHT_MG", "RUN_OVER_WALK_PCT", "EASE_CAD_PCT", "EASE_EFFORT_PCT",
           "TRACK_PCT", "STRIDE_MS", "SOFT_BUMP_PCT")


def tuned_pipeline(rate, tune=None):
    """A MotionPipeline with constants of TUNABLE overridden (``{name: value}``); the firmware
    keeps no code for it."""
    p = MotionPipeline(rate)
    for name, value in (tune or {}).items():
        if name not in TUNABLE:
            raise ValueError("motion: %s is not a tunable constant" % name)
        if name == "STRIDE_MS":
            p.stride_iv = p.rate * int(value) // 1000
        else:
            setattr(p, name.lower(), int(value))
    return p


def analyze_samples(samples, rate, tune=None):
    """Feed (ax, ay, az) samples; returns the result dict (docs/motion.md). ``tune``: constants of
    TUNABLE to override (the benchmark's leave-one-person-out search)."""
    p = tuned_pipeline(rate, tune)
    reps = []
    activity = []
    state = p.activity()
    seg_start = 0
    feed = p.feed
    n = 0

    def rep_from(end_sample):
        m = p.rep_metrics()
        return {"start_s": round((p.bout_start - 1) / rate, 2), "end_s": round((end_sample - 1) / rate, 2),
                "steps": m["steps"], "cadence_spm": m["cadence_spm"],
                "peak_cadence_spm": m["peak_cadence_spm"], "peak_g": m["peak_g"], "contact_ms": m["contact_ms"]}

    for x, y, z in samples:
        n += 1
        code = feed(x, y, z)
        if code == MOVE_STOP:
            reps.append(rep_from(p.bout_end))
        now = p.activity()
        if now != state:
            since = max(p.state_since - 1, seg_start)
            if since > seg_start:
                activity.append((seg_start, since, state))
            seg_start = since
            state = now
    if p.state == RUN and p.announced:   # the trace ends mid-run: the bout ends with it
        reps.append(rep_from(p.last_fast))
    if n > seg_start:
        activity.append((seg_start, n, state))
    merged = []
    for a, b, s in activity:
        if merged and merged[-1]["state"] == STATE_NAMES[s]:
            merged[-1]["end_s"] = round(b / rate, 2)
        else:
            merged.append({"start_s": round(a / rate, 2), "end_s": round(b / rate, 2), "state": STATE_NAMES[s]})
    return {"steps": p.steps, "reps": reps, "activity": merged, "rate_hz": rate, "duration_s": round(n / rate, 2)}


def trace_samples(path, rate):
    """The samples of a trace file at ``rate``, streamed."""
    reader = TraceReader(str(path), rate)
    while True:
        s = reader.sample()
        if reader.ended:
            return
        yield s


def analyze_file(path, rate=50, tune=None):
    return analyze_samples(trace_samples(path, rate), rate, tune)


def _mmss(s):
    return "%d:%04.1f" % (s // 60, s % 60)


def table(result):
    lines = ["%d steps in %s (pipeline at %d Hz)" % (result["steps"], _mmss(result["duration_s"]), result["rate_hz"]),
             "", "reps (runs):"]
    if not result["reps"]:
        lines.append("  none")
    else:
        lines.append("  %3s  %9s  %9s  %6s  %5s  %9s  %6s" % ("#", "start", "end", "length", "steps", "cadence", "peak"))
        for i, r in enumerate(result["reps"], 1):
            lines.append("  %3d  %9s  %9s  %5.1fs  %5d  %5d spm  %5.1fg" % (
                i, _mmss(r["start_s"]), _mmss(r["end_s"]), r["end_s"] - r["start_s"], r["steps"],
                r["cadence_spm"], r["peak_g"]))
    lines += ["", "activity:"]
    for a in result["activity"]:
        lines.append("  %9s - %9s  %s" % (_mmss(a["start_s"]), _mmss(a["end_s"]), a["state"]))
    return "\n".join(lines)


def register(sub):
    p = sub.add_parser("analyze", help="run the firmware motion pipeline over an accelerometer trace",
                       description="Run the firmware's motion pipeline over TRACE.csv (t_ms,ax,ay,az in milli-g) "
                                   "and print steps, run bouts (reps) and the activity timeline.")
    p.add_argument("trace", help="trace CSV (format: ../shared/traces/FORMAT.md)")
    p.add_argument("--rate", type=int, default=50, help="sensor rate to resample to, Hz (default 50)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run_command)


def run_command(args):
    if not 10 <= args.rate <= 400:
        print("error: --rate %d: must be from 10 to 400 Hz" % args.rate, file=sys.stderr)
        return 2
    try:
        result = analyze_file(args.trace, args.rate)
    except OSError as e:
        print("error: cannot read %s: %s" % (args.trace, e.strerror or e), file=sys.stderr)
        return 2
    except TraceError as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    if args.json:
        out = {"steps": result["steps"],
               "reps": [{k: r[k] for k in ("start_s", "end_s", "steps", "cadence_spm", "peak_g", "contact_ms")}
                        for r in result["reps"]],
               "activity": result["activity"]}
        print(json.dumps(out))
    else:
        print(table(result))
    return 0
