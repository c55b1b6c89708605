"""Many sessions at once, for progress plots and ``sprintwatch next``.

Sessions come from the paths given (``--sessions``: sim folders, logs, JSON exports,
or folders holding several of them), or else from the sync database, ordered by their
start time.
"""
import json
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


RATINGS = ("easy", "ok", "hard")


def ratings_path(path=None):
    """The runner's answers to `sprintwatch rate`: a JSON file beside the sync database."""
    if path:
        return Path(path)
    from host_tools.device_keys import data_dir
    return data_dir() / "ratings.json"


def session_key(session):
    """What names a session in the ratings file: its plan and start time (the same
    session synced, exported or simulated again keeps it)."""
    return "%s @ %s" % (session.plan_name, start_time(session).isoformat())


def read_ratings(path=None):
    """{session key: rating}; a missing or unreadable file is no ratings (said by the caller)."""
    try:
        doc = json.loads(ratings_path(path).read_text())
    except (OSError, ValueError):
        return {}
    return {k: v["rating"] for k, v in doc.items() if isinstance(v, dict) and v.get("rating") in RATINGS}


def save_rating(session, rating, path=None, label=""):
    """Record the runner's answer for ``session``; returns the file written."""
    if rating not in RATINGS:
        raise ValueError("rating must be one of %s, got %r" % (", ".join(RATINGS), rating))
    p = ratings_path(path)
    try:
        doc = json.loads(p.read_text())
    except (OSError, ValueError):
        doc = {}
    doc[session_key(session)] = {"rating": rating, "session": label}
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    tmp.replace(p)
    return p


class Summary:
    """What one session says about the runner's progress."""

    def __init__(self, session, rating=None):
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
        self.rating = rating
        # Reps with a run: when the device sensed motion, only those the runner really ran.
        self.sensed = any("motion" in r for r in session.reps)
        self.run_reps = [r for r in done if r.get("motion") or not self.sensed]
        self.no_run = len(done) - len(self.run_reps)
        drops = [f for _t, ev, f in session.events if ev == "form_drop"]
        self.guard_on_device = bool(drops) or any(ev == "end_set_offer" for _t, ev, _f in session.events)
        self.form_drops = [f.get("rep") for f in drops]
        self.set_ended = any(ev == "end_set" for _t, ev, _f in session.events)
        self.skipped_steps = sum(1 for st in session.steps if st.reason == "skipped")
        self.fade = self._fade()

    def _fade(self):
        """(rep, cadence %) of the worst rep whose cadence fell past the guard's bound
        against the best of the first two run reps, or None (swcore.formguard's bound)."""
        from swcore.formguard import DEFAULTS
        cad = [(r.get("rep"), r.get("cadence_spm") or 0) for r in self.run_reps]
        cad = [c for c in cad if c[1]]
        if len(cad) < 3:
            return None
        best = max(c for _r, c in cad[:2])
        worst = min(cad[2:], key=lambda x: x[1])
        pct = (worst[1] - best) * 100 / best
        return (worst[0], round(pct, 1)) if pct <= -DEFAULTS[0] else None

    @property
    def hard(self):
        """Rated hard, or (not rated) form broke: two drops, or the set ended early."""
        if self.rating:
            return self.rating == "hard"
        return len(self.form_drops) >= 2 or self.set_ended

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
