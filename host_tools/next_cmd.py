"""``sprintwatch next``: how many sprints to do next time, from the sessions run so far.

The seed's advice: lower volume until confident in form, then build up gradually.
Rules (docs/export.md, "next"):
- no history: start with fewer reps than the plan's maximum (half, at least 2);
- every rep of the last session completed with steady cadence: one more, never above
  the maximum;
- all completed but cadence unsteady or unknown: the same number again;
- reps skipped or the session cut short: what was completed (at least 1).
"""
import copy
import json
import sys
from pathlib import Path

from host_tools import firmware  # noqa: F401
from host_tools.history import STEADY_CADENCE, Summary, load_history
from swcore import plan as planmod
from swcore.default_plan import DEFAULT_PLAN


def register(sub):
    p = sub.add_parser("next", help="suggest the next session's number of sprints from the history",
                       description="Suggest how many sprints to run next: start low, add one at most "
                                   "per session when every rep was completed with steady cadence.")
    p.add_argument("--sessions", nargs="+", metavar="PATH", default=[],
                   help="sessions to learn from (logs, sim folders, JSON exports, or folders of them); "
                        "default: all synced sessions")
    p.add_argument("--plan", help="plan whose sprint block to size (default: the built-in session)")
    p.add_argument("--max", type=int, help="never more sprints than this (default: the plan's count)")
    p.add_argument("--write", metavar="FILE", help="write the plan with the suggested count (checked)")
    p.add_argument("--db", help="sync database for session ids (default: the one sprintwatch sync uses)")
    p.set_defaults(func=run_command)


def sprint_block(doc):
    """The repeat block holding the plan's sprints (the one whose count ``next`` changes)."""
    for s in doc.get("sets", []):
        for step in s.get("steps", []):
            if isinstance(step, dict) and "repeat" in step and any(
                    x.get("kind") == "sprint" for x in step.get("steps", []) if isinstance(x, dict)):
                return step
    return None


def suggest(summaries, maximum):
    """(reps, reason) for the next session."""
    start = max(2, maximum // 2) if maximum >= 2 else maximum
    if not summaries:
        return min(start, maximum), "no sessions yet: start with fewer sprints than the plan's %d" % maximum
    last = summaries[-1]
    got = "last session (%s): %d of %d sprints" % (last.when.strftime("%Y-%m-%d"), last.completed, last.planned)
    if not last.all_completed:
        why = "skipped" if last.skipped else "not all done" if last.finished else "cut short"
        return max(1, min(last.completed, maximum)), "%s, %s: repeat what you completed" % (got, why)
    if not last.cadence_known:
        return min(last.planned, maximum), "%s, no cadence recorded: same again" % got
    span = "cadence %.0f-%.0f spm" % (min(last.cadences), max(last.cadences))
    if not last.steady:
        why = "a low-cadence warning" if last.cadence_warnings else \
            "varied more than %d%%" % round(STEADY_CADENCE * 100)
        return min(last.planned, maximum), "%s, %s %s: same again until it is steady" % (got, span, why)
    if last.planned >= maximum:
        return maximum, "%s, %s steady: you are at the plan's maximum of %d" % (got, span, maximum)
    return last.planned + 1, "%s, all completed, %s steady: add one" % (got, span)


def run_command(args):
    doc = copy.deepcopy(DEFAULT_PLAN)
    if args.plan:
        from host_tools.plan_cmd import load
        text, _parsed = load(args.plan)
        doc = json.loads(text)
    block = sprint_block(doc)
    if block is None:
        print("next: the plan has no repeated sprint block to size", file=sys.stderr)
        return 1
    maximum = args.max or block["repeat"]
    sessions, warnings = load_history(args.sessions, args.db)
    for w in warnings:
        print("warning: %s" % w, file=sys.stderr)
    reps, reason = suggest([Summary(s) for s in sessions], maximum)
    print("next session: %d sprints (%s)" % (reps, reason))
    if args.write:
        block["repeat"] = reps
        planmod.parse(doc)   # the device's own check: never write a plan it would refuse
        Path(args.write).write_text(json.dumps(doc, indent=1) + "\n")
        print("wrote %s" % args.write)
    return 0
