"""Many sessions at once, for progress plots and ``sprintwatch next``.

Sessions come from the paths given (``--sessions``: sim folders, logs, JSON exports,
or folders holding several of them), or else from the sync database, ordered by their
start time.
"""
import statistics
from pathlib import Path

from host_tools.session_model import Session
from host_tools.session_source import SessionNotFound, load_session, start_time, stored_sessions

STEADY_CADENCE = 0.05   # every rep's cadence within 5 % of the session's median


def _expand(paths):
    for p in map(Path, paths):
        if p.is_dir() and not (p / "events.jsonl").exists():
            subs = sorted(x for x in p.iterdir() if x.is_dir() or x.suffix in (".json", ".jsonl", ".swl"))
            yield from _expand(subs)
        else:
            yield p


def load_history(paths, db=None):
    """[Session] ordered by start time; unreadable entries are skipped with a warning.

    Without ``paths``, every session in the sync database."""
    sessions = []
    warnings = []
    if not paths:
        for label, header, events in stored_sessions(db):
            s = Session(header, events)
            s.label = label
            sessions.append(s)
    for p in _expand(paths):
        try:
            header, events = load_session(p)
        except (SessionNotFound, ValueError, OSError) as e:
            warnings.append("skipped %s: %s" % (p, e))
            continue
        s = Session(header, events)
        s.label = str(p)
        sessions.append(s)
    sessions.sort(key=start_time)
    return sessions, warnings


class Summary:
    """What one session says about the runner's progress."""

    def __init__(self, session):
        self.session = session
        self.when = start_time(session)
        self.planned = session.planned_reps()
        done = session.completed_reps()
        self.completed = len(done)
        self.skipped = len(session.reps) - len(done)
        self.finished = session.ended
        self.durations = [r["duration_ms"] / 1000 for r in done]
        self.cadences = [r["cadence_spm"] for r in done if r.get("cadence_spm")]
        self.cadence_warnings = sum(1 for _t, p in session.cues if p == "cadence_low")

    @property
    def all_completed(self):
        return self.finished and self.skipped == 0 and self.completed >= self.planned > 0

    @property
    def cadence_known(self):
        return bool(self.cadences) and len(self.cadences) == self.completed

    @property
    def steady(self):
        """Every rep's cadence close to the session's median, and no low-cadence cue."""
        if not self.cadence_known or self.cadence_warnings:
            return False
        mid = statistics.median(self.cadences)
        return all(abs(c - mid) <= STEADY_CADENCE * mid for c in self.cadences)
