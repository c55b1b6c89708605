"""``sprintwatch next`` and ``sprintwatch rate``: a progression that builds slowly.

The seed's advice: "lower volume until you are confident in your form, gradually
increasing your speed and distance over time". ``next`` reads the synced history
(or ``--sessions``), sizes the plan's sprint block and says why, one line per
decision; ``rate SESSION easy|ok|hard`` records the runner's own answer, which
``next`` weighs above anything the device measured. The rules, in the order they
apply, with their reasons: docs/export.md, "sprintwatch next".
"""
import copy
import datetime
import json
import sys
from pathlib import Path

from host_tools import firmware  # noqa: F401
from host_tools.history import RATINGS, Summary, load_history, read_ratings, save_rating, session_key
from swcore import plan as planmod
from swcore.default_plan import DEFAULT_PLAN

REST_DAYS = 2          # add volume only after this much rest
BREAK_DAYS = 14        # a longer gap: one sprint fewer
LONG_BREAK_DAYS = 28   # a much longer one: start low again
STAGE_SESSIONS = 2     # sessions at the top of a stage, held well, before the next stage
WALK_SESSIONS = 3      # completed walking sessions before the first running stage


def register(sub):
    p = sub.add_parser("next", help="write the next session's plan from the history, saying why",
                       description="Size the next session's sprints from the synced history: only reps "
                                   "with a run count, at most one more a session, never two hard "
                                   "sessions in a row, more rest after hard ones. One line per decision.")
    p.add_argument("--sessions", nargs="+", metavar="PATH", default=[],
                   help="sessions to learn from (logs, sim folders, JSON exports, or folders of them); "
                        "default: all synced sessions")
    p.add_argument("--plan", help="plan file or library NAME whose sprint block to size "
                                  "(default: the built-in session)")
    p.add_argument("--max", type=int, help="never more sprints than this (default: the plan's count)")
    p.add_argument("--write", metavar="FILE", help="write the plan with the suggested count (checked)")
    p.add_argument("--db", help="sync database for session ids (default: the one sprintwatch sync uses)")
    p.add_argument("--ratings", help="ratings file (default: ratings.json beside the sync database)")
    p.add_argument("--today", help="date to count rest days to (YYYY-MM-DD; default: today)")
    p.set_defaults(func=run_command)
    r = sub.add_parser("rate", help="say how a session felt (easy, ok or hard) for `next`",
                       description="Record the runner's answer to one question after a sync: how did "
                                   "the session feel? `next` weighs it above what the device measured.")
    r.add_argument("session", help="session id from `sprintwatch sessions`, a log, a sim folder or an export")
    r.add_argument("rating", choices=RATINGS, help="how it felt")
    r.add_argument("--db", help="sync database for session ids")
    r.add_argument("--ratings", help="ratings file (default: ratings.json beside the sync database)")
    r.set_defaults(func=rate_command)


def sprint_block(doc):
    """The repeat block holding the plan's sprints (the one whose count ``next`` changes)."""
    for s in doc.get("sets", []):
        for step in s.get("steps", []):
            if isinstance(step, dict) and "repeat" in step and any(
                    x.get("kind") == "sprint" for x in step.get("steps", []) if isinstance(x, dict)):
                return step
    return None


def _day(s):
    return s.when.strftime("%Y-%m-%d")


def plan_next(summaries, maximum, today=None, stage=None, next_stage=None):
    """(sprints, [decision lines]) for the next session of a plan with ``maximum`` sprints.

    ``summaries``: every session, oldest first (rest and hard-session rules use all of
    them; sizing uses those with sprints planned). ``today`` (a date) enables the rest
    and break rules. ``stage``/``next_stage``: the plan's place on the library path.
    """
    lines = []
    start = max(2, maximum // 2) if maximum >= 2 else maximum
    sprinting = [s for s in summaries if s.planned > 0]
    last_any = summaries[-1] if summaries else None
    if not sprinting:
        lines.append("no sessions with sprints yet: start with fewer sprints than the plan's %d" % maximum)
        return min(start, maximum), lines
    last = sprinting[-1]
    ran = min(len(last.run_reps), last.planned)
    head = "last session (%s): %d of %d sprints with a run" % (_day(last), ran, last.planned)
    if last.no_run:
        head += " (%d with no run seen: not counted)" % last.no_run
    if last.skipped:
        head += ", %d skipped" % last.skipped
    if not last.finished:
        head += ", cut short"
    lines.append(head)
    reps = max(1, ran)
    grow = ran >= last.planned and last.finished and not last.skipped
    if last.form_drops:
        lines.append("form dropped on rep %s (the device's guard): hold the volume until every rep "
                     "keeps its form" % ", ".join(str(r) for r in last.form_drops))
        grow = False
    elif last.fade and not last.guard_on_device:
        lines.append("cadence of rep %s fell %.1f %% below the first reps': hold the volume"
                     % (last.fade[0], -last.fade[1]))
        grow = False
    if last.set_ended:
        lines.append("you ended the set when the guard offered: next time that many")
    if last.rating:
        lines.append("you rated it %s" % last.rating)
    if last.hard:
        why = "rated hard" if last.rating == "hard" else "form broke down"
        reps = max(1, min(reps, last.planned - 1))
        lines.append("the last session was hard (%s): never two hard ones in a row, one sprint "
                     "fewer than planned" % why)
        grow = False
    if today is not None and last_any is not None:
        days = (today - last_any.when.date()).days
        if days > LONG_BREAK_DAYS:
            lines.append("%d days since the last session: start low again" % days)
            return min(start, maximum, reps), lines
        if days > BREAK_DAYS:
            lines.append("%d days since the last session: one sprint fewer" % days)
            return max(1, min(reps - 1, maximum)), lines
        if days < REST_DAYS and grow:
            lines.append("only %d day%s since the last session: rest %d days before adding volume"
                         % (days, "" if days == 1 else "s", REST_DAYS))
            grow = False
        if days < REST_DAYS and last_any.hard:
            lines.append("the last session was hard and %d day%s ago: rest before the next"
                         % (days, "" if days == 1 else "s"))
    if grow:
        if last.planned >= maximum:
            lines.append("all sprints held their form: you are at the plan's maximum of %d" % maximum)
            well = [s for s in sprinting[-STAGE_SESSIONS:] if s.planned >= maximum and not s.hard
                    and not s.form_drops and len(s.run_reps) >= s.planned]
            if next_stage and len(well) >= STAGE_SESSIONS:
                lines.append("%d sessions at the top held well: ready for the next stage, "
                             "sprintwatch next --plan %s" % (STAGE_SESSIONS, next_stage))
            return maximum, lines
        lines.append("all sprints ran and held their form: add one (at most one a session)")
        return min(last.planned + 1, maximum), lines
    if not last.hard:
        lines.append("the same as you ran: %d" % min(reps, maximum))
    return min(reps, maximum), lines


def suggest(summaries, maximum, today=None):
    """(sprints, reason): ``plan_next`` with its decisions in one line."""
    reps, lines = plan_next(summaries, maximum, today)
    return reps, "; ".join(lines)


def walk_stage(summaries, plan_name, next_stage):
    """Decisions for a plan without sprints (the path's walking stage)."""
    mine = [s for s in summaries if s.session.plan_name == plan_name]
    done = [s for s in mine if s.finished and not s.skipped_steps and not s.hard]
    lines = ["%d %s session%s completed, not hard" % (len(done), plan_name, "" if len(done) == 1 else "s")]
    if next_stage and len(done) >= WALK_SESSIONS:
        lines.append("%d completed: ready for the next stage, sprintwatch next --plan %s"
                     % (WALK_SESSIONS, next_stage))
    else:
        lines.append("the same again: %d completed before running descents" % WALK_SESSIONS)
    return lines


def _load_plan(ref):
    """(doc, library name or None) for --plan: a file, a library name, or the built-in session."""
    from host_tools import plan_library
    if ref is None:
        return copy.deepcopy(DEFAULT_PLAN), "descending-sprints"
    if ref in plan_library.ENTRIES and not Path(ref).exists():
        return plan_library.get(ref), ref
    from host_tools.plan_cmd import load
    text, _parsed = load(ref)
    doc = json.loads(text)
    return doc, plan_library.by_plan_name(doc.get("name"))


def _today(text):
    if not text:
        return datetime.date.today()
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise SystemExit("error: --today: %r is not a date (YYYY-MM-DD)" % text)


def run_command(args):
    from host_tools import plan_library
    doc, lib_name = _load_plan(args.plan)
    nxt = plan_library.next_stage(lib_name) if lib_name else None
    sessions, warnings = load_history(args.sessions, args.db)
    for w in warnings:
        print("warning: %s" % w, file=sys.stderr)
    ratings = read_ratings(args.ratings)
    summaries = [Summary(s, ratings.get(session_key(s))) for s in sessions]
    block = sprint_block(doc)
    if block is None:
        if lib_name is None:
            print("next: the plan has no repeated sprint block to size", file=sys.stderr)
            return 1
        for line in walk_stage(summaries, doc["name"], nxt):
            print("  - %s" % line)
        print("next session: %s as it is" % doc["name"])
        reps = None
    else:
        maximum = args.max or block["repeat"]
        reps, lines = plan_next(summaries, maximum, _today(args.today), lib_name, nxt)
        for line in lines:
            print("  - %s" % line)
        print("next session: %d sprints of %s" % (reps, doc["name"]))
        block["repeat"] = reps
    if args.write:
        planmod.parse(doc)   # the device's own check: never write a plan it would refuse
        Path(args.write).write_text(json.dumps(doc, indent=1) + "\n")
        print("wrote %s (put it on the device: sprintwatch flash --plan %s)" % (args.write, args.write))
    return 0


def rate_command(args):
    from host_tools.session_model import Session
    from host_tools.session_source import SessionNotFound, load_session
    try:
        header, events = load_session(args.session, args.db)
    except (SessionNotFound, ValueError, OSError) as e:
        print("rate: %s" % e, file=sys.stderr)
        return 1
    session = Session(header, events)
    path = save_rating(session, args.rating, args.ratings, label=args.session)
    print("%s (%s): rated %s, saved in %s" % (args.session, session_key(session), args.rating, path))
    return 0
