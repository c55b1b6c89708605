"""``sprintwatch sim``: run the unchanged firmware on the simulated board.

The firmware runs on the MicroPython unix port (or CPython with ``--runtime
cpython``) in virtual time; this module writes its configuration, starts it, and
prints a readable summary of ``events.jsonl``.
"""
import json
import subprocess
import sys
from pathlib import Path

from host_tools import firmware
from host_tools.cli import existing_file

# The demo: the runner ends Sprint Setup at 15:05, and taps each sprint away
# (first at 15:10, then 2:05 after each walk back starts).
DEMO_TAPS = "905,910,925,1055,1070,1200,1215,1345,1360,1490,1505,1635,1650"
# With the recordings at hand the demo runs a composed session (host_tools.compose):
# warm-up, six real sprints the motion pipeline ends by itself, walks back, cool-down.
DEMO_SEED = 1


def register(sub):
    p = sub.add_parser("sim", help="run a session on the simulated board in virtual time",
                       description="Run the firmware on the simulated board (MicroPython unix port) "
                                   "in fast-forwarded virtual time and summarise what happened.")
    p.add_argument("--plan", type=existing_file, help="plan JSON file (default: the built-in session)")
    p.add_argument("--trace", type=existing_file,
                   help="accelerometer trace CSV (t_ms,ax,ay,az); default: standing still")
    # Repeatable: --taps 5 --taps 9 is --taps 5,9.
    p.add_argument("--taps", action="append", default=[],
                   help="button taps, seconds from session start: S1,S2,... (repeatable)")
    p.add_argument("--hold", action="append", default=[],
                   help="long presses S:MS,... (press at S seconds, hold MS ms; repeatable)")
    p.add_argument("--double", action="append", default=[],
                   help="double presses, seconds from session start: S1,S2,... (repeatable)")
    p.add_argument("--rate", type=int, default=None,
                   help="sensor rate in Hz (default: the simulated board's, boards/sim.json)")
    p.add_argument("--out", default="out/sim", help="output folder (default out/sim)")
    p.add_argument("--runtime", choices=("micropython", "cpython"), default="micropython",
                   help="interpreter that runs the firmware (default micropython)")
    p.add_argument("--demo", action="store_true", help="use the demo taps (what `make run` does)")
    p.add_argument("--fatigue", action="store_true",
                   help="with --demo: a composed session whose later sprints slow down (host_tools.fatigue), "
                        "for the form-drop guard")
    p.add_argument("--steady", action="store_true",
                   help="with --demo: the same one-runner, one-slope session without the slowdown")
    p.add_argument("--quiet", action="store_true", help="no summary")
    p.add_argument("--no-clock", action="store_true",
                   help="a board whose clock was never set (default: its clock is set to now)")
    p.set_defaults(func=run_command)


def _joined(values):
    """A repeatable option's values (a list, or one string) as one comma-separated list."""
    return values if isinstance(values, str) else ",".join(values)


def _seconds_list(text, what):
    out = []
    for part in filter(None, (x.strip() for x in text.split(","))):
        try:
            out.append(float(part))
        except ValueError:
            raise SystemExit("error: %s: %r is not a number of seconds" % (what, part))
    return out


def presses_from_args(taps, holds, doubles):
    """Scripted presses as [t_ms, hold_ms] pairs."""
    taps, holds, doubles = _joined(taps), _joined(holds), _joined(doubles)
    presses = [[round(s * 1000), 120] for s in _seconds_list(taps, "--taps")]
    for s in _seconds_list(doubles, "--double"):
        presses += [[round(s * 1000), 100], [round(s * 1000) + 200, 100]]
    for part in filter(None, (x.strip() for x in holds.split(","))):
        try:
            s, ms = part.split(":")
            presses.append([round(float(s) * 1000), int(ms)])
        except ValueError:
            raise SystemExit("error: --hold: %r is not S:MS" % part)
    return sorted(presses)


def sim_board_rate():
    """The simulated board's sensor rate, from its board definition."""
    from swcore import boardspec
    spec = boardspec.parse((firmware.BOARDS_DIR / "sim.json").read_text())
    return spec["accel"]["rate_hz"]


def run_sim(out, plan=None, trace=None, presses=(), rate=50, runtime="micropython", wall_s="now"):
    """Run the simulator; returns the list of events it recorded.

    The simulated board's clock is set to ``wall_s`` (default: now, as after a sync), so
    its log says when the session started; None runs it as a board whose clock was never set.
    """
    import time
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = {"out": str(out.resolve()), "plan": str(Path(plan).resolve()) if plan else None,
           "trace": str(Path(trace).resolve()) if trace else None,
           "rate_hz": rate, "presses": [list(p) for p in presses]}
    if wall_s is not None:
        cfg["wall_s"] = int(time.time()) if wall_s == "now" else int(wall_s)
    cfg_path = out / "sim-config.json"
    cfg_path.write_text(json.dumps(cfg, indent=1))
    code = "import swrt.sim as s; s.main(%r)" % str(cfg_path.resolve())
    if runtime == "micropython":
        cmd = [firmware.micropython_exe(), "-c", code]
        env = firmware.micropython_env()
    else:
        cmd = [sys.executable, "-c", code]
        env = dict(__import__("os").environ, PYTHONPATH=str(firmware.FIRMWARE_DIR))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode == 4:          # the board's own message about the input (a bad trace)
        raise SystemExit(proc.stdout.strip().splitlines()[-1])
    if proc.returncode not in (0, 3):
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit("error: the simulated board crashed (exit %d)" % proc.returncode)
    return read_events(out / "events.jsonl")


def read_events(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def mmss(ms):
    s = ms // 1000
    return "%d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60) if s >= 3600 else "%d:%02d" % (s // 60, s % 60)


def summary(events):
    """A readable account of a simulated session."""
    lines = []
    cues = 0
    for e in events:
        ev = e["event"]
        t = mmss(e["t_ms"])
        if ev == "step_start":
            rep = " %d/%d" % (e["rep"], e["of"]) if "rep" in e else ""
            lines.append("%8s  start  %s%s  (%s)" % (t, e["step"], rep, e["kind"]))
        elif ev == "sprint_go":
            lines.append("%8s  go!    sprint %d" % (t, e["rep"]))
        elif ev == "rep":
            extra = ""
            if "steps" in e:
                extra = ", %d steps, %.0f spm, peak %.1f g" % (e["steps"], e.get("cadence_spm", 0), e.get("peak_g", 0))
            if "reaction_ms" in e:
                extra += ", reaction %.1f s" % (e["reaction_ms"] / 1000)
            elif e.get("motion") is False:
                extra += " (no run seen)"
            lines.append("%8s  rep    %d: %.1f s (%s)%s" % (t, e["rep"], e["duration_ms"] / 1000, e["reason"], extra))
        elif ev == "cue" and e.get("pattern") == "cadence_low":
            lines.append("%8s  nudge  cadence %d spm below the floor" % (t, e.get("cadence_spm", 0)))
            cues += 1
            continue
        elif ev in ("pause", "resume", "plan_fallback", "sensor_fault", "sim_stopped", "motion_no_tap"):
            detail = e.get("error") or e.get("why") or ""
            lines.append("%8s  %-6s %s" % (t, ev, detail))
        elif ev == "session_end":
            moving = " (%d with a run)" % e["reps_moving"] if "reps_moving" in e else ""
            lines.append("%8s  done   %d reps%s, paused %s" % (t, e["reps"], moving, mmss(e["paused_ms"])))
        elif ev == "form_drop":
            lines.append("%8s  form   rep %d dropped: %s (cadence %+.1f %%, run %+.1f %%)" % (
                t, e["rep"], e["signals"], e["cadence_pct"], e["duration_pct"]))
        elif ev == "end_set_offer":
            lines.append("%8s  offer  end the set? (%d drops in a row; tap during the walk back)" % (t, e["in_a_row"]))
        elif ev == "end_set":
            lines.append("%8s  ended  the set, %d sprints left out" % (t, e["sprints_left"]))
        elif ev == "slope":
            lines.append("%8s  slope  %.1f %% (%s)" % (t, e["gradient_pct"], e["verdict"]))
        elif ev == "cue":
            cues += 1
    lines.append("%d cues played" % cues)
    return "\n".join(lines)


def fading_demo_session(out, rate, fade):
    """The demo on a session whose reps fade (``fade`` 1) or hold (0); (trace, taps)."""
    from host_tools import compose, fatigue
    if not compose.TRACES_DIR.is_dir():
        raise SystemExit("error: --fatigue/--steady need the recordings (%s)" % compose.TRACES_DIR)
    trace = Path(out) / "demo-session.csv"
    labels = fatigue.compose_fading_to(trace, DEMO_SEED, rate, fade=fade)
    return str(trace), ",".join("%.2f" % t for t in labels["taps_s"])


def demo_session(out, rate):
    """Compose the demo's session trace (seeded) into ``out``; returns (trace, taps).

    Without the recordings (an installed package has no ../shared/traces) it says so
    and runs standing still with DEMO_TAPS: the session is the same, no motion is seen.
    """
    from host_tools import compose
    if not compose.TRACES_DIR.is_dir():
        print("note: recordings not found at %s (set SPRINTWATCH_TRACES=DIR): the demo runs "
              "standing still with scripted taps, so no run is detected" % compose.TRACES_DIR,
              file=sys.stderr)
        return None, DEMO_TAPS
    trace = Path(out) / "demo-session.csv"
    labels = compose.compose_to(trace, DEMO_SEED, rate)
    return str(trace), ",".join("%.2f" % t for t in labels["taps_s"])


def run_command(args):
    if args.rate is None:
        args.rate = sim_board_rate()
    taps, trace = _joined(args.taps), args.trace
    if args.demo and not trace and not taps and (args.fatigue or args.steady):
        trace, taps = fading_demo_session(args.out, args.rate, 1.0 if args.fatigue else 0.0)
    elif args.demo and not trace and not taps:
        trace, taps = demo_session(args.out, args.rate)
    elif args.demo and not taps:
        taps = DEMO_TAPS
    presses = presses_from_args(taps, args.hold, args.double)
    events = run_sim(args.out, args.plan, trace, presses, args.rate, args.runtime,
                     wall_s=None if args.no_clock else "now")
    if not args.quiet:
        print(summary(events))
        print("events: %s/events.jsonl, outputs: %s/actions.jsonl" % (args.out, args.out))
        for log in sorted(Path(args.out).glob("session-*.swlog")):
            print("session log: %s (read it with: sprintwatch log show %s)" % (log, log))
    return 0
