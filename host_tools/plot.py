"""``sprintwatch plot``: one session's timeline and reps, or progress across sessions (PNG)."""
import sys

from host_tools.history import Summary, load_history
from host_tools.session_model import Session
from host_tools.session_source import SessionNotFound, load_session

COLOURS = {"warmup": "#f4b183", "active": "#e06666", "recovery": "#93c47d", "cooldown": "#6fa8dc"}
REASON_COLOURS = {"motion": "#cc0000", "tap": "#e69138", "max": "#741b47", "skipped": "#999999"}
CUE_ROWS = {"sprint_go": 3, "sprint_end": 3, "countdown": 1, "step_start": 2, "recovery_ready": 2,
            "recovery_over": 2, "cadence_low": 0, "error": 0, "warning": 0}


def register(sub):
    p = sub.add_parser("plot", help="plot a session, or progress across sessions, to a PNG",
                       description="Plot a session (timeline, rep durations, cadence, peak impact) "
                                   "or, with --progress, reps, sprint times and cadence across sessions.")
    p.add_argument("session", nargs="?", help="session log file, sim output folder, events.jsonl or JSON export")
    p.add_argument("--progress", action="store_true", help="plot progress across --sessions")
    p.add_argument("--sessions", nargs="+", metavar="PATH", default=[],
                   help="with --progress: sessions (or folders of them); default: all synced sessions")
    p.add_argument("--out", help="PNG file to write (default: SESSION.png beside the session, "
                                 "or progress.png with --progress)")
    p.add_argument("--db", help="sync database for session ids (default: the one sprintwatch sync uses)")
    p.set_defaults(func=run_command)


def _matplotlib():
    """pyplot (Agg backend) and Patch, imported when a plot is drawn: matplotlib takes
    about a second to import, which no other command should pay."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    return plt, Patch


def _minutes(ms):
    return ms / 60000.0


def plot_session(session, out):
    plt, Patch = _matplotlib()
    fig, (tl, dur, cad, imp) = plt.subplots(4, 1, figsize=(12, 11),
                                            gridspec_kw={"height_ratios": [1.3, 1, 1, 1]})
    fig.suptitle("%s - %d sprints, %s" % (session.plan_name, len(session.reps),
                                           "%d:%02d" % divmod(session.end_ms // 1000, 60)))
    _timeline(tl, session)
    reps = session.reps
    numbers = [r.get("rep", i + 1) for i, r in enumerate(reps)]
    dur.bar(numbers, [r["duration_ms"] / 1000 for r in reps],
            color=[REASON_COLOURS.get(r.get("reason"), "#666666") for r in reps])
    if reps:
        dur.set_ylim(0, 1.3 * max(r["duration_ms"] / 1000 for r in reps))
    dur.set_ylabel("sprint time (s)")
    dur.set_title("Each rep's duration (colour: what ended it)", fontsize=10, loc="left")
    dur.legend(handles=[Patch(color=c, label=k) for k, c in REASON_COLOURS.items()],
               fontsize=8, ncol=4, loc="upper right")
    _cadence(cad, session)
    peaks = [r.get("peak_g") for r in reps]
    if any(p is not None for p in peaks):
        imp.bar(numbers, [p or 0 for p in peaks], color="#674ea7")
    else:
        _empty(imp, "no impact recorded (button-only session)")
    imp.set_ylabel("peak impact (g)")
    imp.set_xlabel("rep")
    imp.set_title("Peak impact per rep", fontsize=10, loc="left")
    dur.set_xticks(numbers)
    if any(p is not None for p in peaks):
        imp.set_xticks(numbers)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def _empty(ax, text, keep_x=False):
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666666")
    ax.set_yticks([])
    if not keep_x:
        ax.set_xticks([])


def _timeline(ax, session):
    _plt, Patch = _matplotlib()
    for s in session.steps:
        ax.axvspan(_minutes(s.start_ms), _minutes(s.end_ms), 0, 0.7,
                   color=COLOURS[s.intensity], alpha=0.9, lw=0)
        ax.axvline(_minutes(s.start_ms), 0, 0.7, color="white", lw=0.8)
        mid = _minutes((s.start_ms + s.end_ms) / 2)
        if s.kind == "sprint" and s.rep:
            ax.text(mid, 0.35, str(s.rep), ha="center", va="center", fontsize=8, weight="bold")
        elif s.kind != "recovery" and s.elapsed_ms > 0.06 * max(session.end_ms, 1):
            ax.text(mid, 0.35, s.name, ha="center", va="center", fontsize=8, rotation=0)
    for a, z in session.pauses:
        ax.axvspan(_minutes(a), _minutes(z), 0, 0.7, facecolor="none", edgecolor="black",
                   hatch="//", lw=0.5)
    for t, pattern in session.cues:
        row = CUE_ROWS.get(pattern, 2)
        ax.vlines(_minutes(t), 0.74 + 0.06 * row, 0.79 + 0.06 * row, color="black", lw=0.7)
    ax.set_ylim(0, 1)
    ax.set_yticks([0.35, 0.86])
    ax.set_yticklabels(["steps", "cues"])
    ax.set_xlim(0, _minutes(session.end_ms) or 1)
    ax.set_xlabel("minutes")
    ax.set_title("Timeline (steps as bands, cues as ticks, pauses hatched)", fontsize=10, loc="left")
    handles = [Patch(color=c, label=k) for k, c in COLOURS.items()]
    if session.pauses:
        handles.append(Patch(facecolor="none", edgecolor="black", hatch="//", label="paused"))
    ax.legend(handles=handles, fontsize=8, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.25))


def _cadence(ax, session):
    sprints = [s for s in session.steps if s.kind == "sprint"]
    drew = False
    for s in sprints:
        ticks = session.ticks_between(s.start_ms, s.end_ms)
        if not ticks:
            continue
        go = next((r.get("start_ms") for r in session.reps if s.start_ms <= r["t_ms"] <= s.end_ms),
                  s.start_ms)
        ax.plot([(t - go) / 1000 for t, _c, _g in ticks], [c for _t, c, _g in ticks],
                marker=".", label="rep %s" % (s.rep or s.index))
        drew = True
    reps = [r for r in session.reps if r.get("cadence_spm")]
    if not drew and reps:   # no once-a-second ticks: each rep's average and peak
        nums = [r.get("rep", i + 1) for i, r in enumerate(reps)]
        ax.bar(nums, [r["cadence_spm"] for r in reps], color="#3d85c6", label="average")
        peaks = [(n, r["peak_cadence_spm"]) for n, r in zip(nums, reps) if r.get("peak_cadence_spm")]
        if peaks:
            ax.plot(*zip(*peaks), "v", color="#0b5394", label="peak")
        ax.set_ylim(0, 1.15 * max([r["cadence_spm"] for r in reps] + [p for _n, p in peaks]))
        ax.set_xticks(nums)
        ax.set_xlabel("rep")
        ax.legend(fontsize=8, loc="lower right")
        ax.set_title("Cadence per rep", fontsize=10, loc="left")
        ax.set_ylabel("cadence (steps/min)")
        return
    if drew:
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + 0.35 * (hi - lo))
        ax.legend(fontsize=8, ncol=6, loc="upper right")
        ax.set_xlabel("seconds into the sprint")
    else:
        _empty(ax, "no cadence recorded (button-only session)")
    ax.set_ylabel("cadence (steps/min)")
    ax.set_title("Cadence through each sprint", fontsize=10, loc="left")


def plot_progress(summaries, out):
    plt, _Patch = _matplotlib()
    fig, (reps, times, cad) = plt.subplots(3, 1, figsize=(11, 9), sharex=True)
    x = list(range(1, len(summaries) + 1))
    labels = [s.when.strftime("%m-%d") for s in summaries]
    reps.bar(x, [s.planned for s in summaries], color="#dddddd", label="planned")
    reps.bar(x, [s.completed for s in summaries], width=0.5, color="#e06666", label="completed")
    reps.set_ylim(0, 1.3 * max([s.planned for s in summaries] + [1]))
    reps.set_ylabel("sprints")
    reps.legend(fontsize=8, loc="upper left")
    reps.set_title("Sprints per session", fontsize=10, loc="left")
    for i, s in zip(x, summaries):
        times.scatter([i] * len(s.durations), s.durations, color="#e69138", s=12)
    best = [(i, min(s.durations)) for i, s in zip(x, summaries) if s.durations]
    if best:
        times.plot(*zip(*best), color="#741b47", marker="o", label="best")
        times.legend(fontsize=8)
    times.set_ylabel("sprint time (s)")
    times.set_title("Sprint times (each rep, and the best)", fontsize=10, loc="left")
    with_cad = [(i, s) for i, s in zip(x, summaries) if s.cadences]
    if with_cad:
        cad.errorbar([i for i, _ in with_cad], [sum(s.cadences) / len(s.cadences) for _, s in with_cad],
                     yerr=[[sum(s.cadences) / len(s.cadences) - min(s.cadences) for _, s in with_cad],
                           [max(s.cadences) - sum(s.cadences) / len(s.cadences) for _, s in with_cad]],
                     fmt="o-", color="#3d85c6", capsize=4)
    else:
        _empty(cad, "no cadence recorded", keep_x=True)
    cad.set_ylabel("cadence (steps/min)")
    cad.set_title("Rep cadence (mean, min-max)", fontsize=10, loc="left")
    cad.set_xticks(x)
    cad.set_xticklabels(labels)
    cad.set_xlabel("session")
    fig.suptitle("Progress over %d sessions" % len(summaries))
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def default_out(ref):
    """``session.png`` inside a sim folder, else the session file's name with .png (an id: ID.png)."""
    from pathlib import Path
    p = Path(ref)
    if p.is_dir():
        return str(p / "session.png")
    if not p.exists():          # a stored session's id (DEVICE:ID) becomes a file here
        return ref.replace(":", "-") + ".png"
    return str(p.with_suffix(".png"))


def run_command(args):
    if args.progress:
        sessions, warnings = load_history(args.sessions, args.db)
        for w in warnings:
            print("warning: %s" % w, file=sys.stderr)
        if not sessions:
            print("plot error: no sessions to plot (sync some, or give --sessions PATH...)", file=sys.stderr)
            return 1
        args.out = args.out or "progress.png"
        plot_progress([Summary(s) for s in sessions], args.out)
    else:
        if not args.session:
            print("plot error: give a SESSION, or --progress", file=sys.stderr)
            return 1
        try:
            header, events = load_session(args.session, args.db)
        except SessionNotFound as e:
            print("plot error: %s" % e, file=sys.stderr)
            return 1
        args.out = args.out or default_out(args.session)
        plot_session(Session(header, events), args.out)
    print("wrote %s" % args.out)
    return 0
