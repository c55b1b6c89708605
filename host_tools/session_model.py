"""A decoded session (header, events) seen as steps, reps and once-a-second ticks.

Input is what the firmware's log reader returns (``swcore.logformat.read_session``)
or what the simulator wrote to ``events.jsonl``: a header dict and a list of
``(t_ms, event, fields)``. Nothing here re-reads a log format; the exporters and the
plots all work from :class:`Session`.
"""
import datetime

# FIT/Garmin step intensities, derived from the plan's structure (see intensity()).
WARMUP, ACTIVE, RECOVERY, COOLDOWN = "warmup", "active", "recovery", "cooldown"


class Step:
    """One step as run: ``start_ms``/``end_ms`` on the session clock (pauses included)."""

    def __init__(self, index, set_name, name, kind, start_ms, rep=None, of=None):
        self.index = index
        self.set = set_name
        self.name = name
        self.kind = kind
        self.start_ms = start_ms
        self.end_ms = None
        self.reason = None       # time, tap, skipped, max, motion; "session_end" when cut
        self.paused_ms = 0
        self.rep = rep
        self.of = of
        self.intensity = ACTIVE

    @property
    def elapsed_ms(self):
        return self.end_ms - self.start_ms

    @property
    def timer_ms(self):
        return self.elapsed_ms - self.paused_ms


class Session:
    def __init__(self, header, events):
        self.header = dict(header or {})
        self.events = [(int(t), ev, dict(f)) for t, ev, f in events]
        self.steps = []
        self.reps = []            # the rep events' fields, with t_ms added
        self.ticks = []           # (t_ms, cadence_spm, peak_g) once a second during sprints
        self.cues = []            # (t_ms, pattern)
        self.pauses = []          # (start_ms, end_ms)
        self.problems = []        # sensor faults, plan fallbacks, sim stops: (t_ms, event, text)
        self.end_ms = 0
        self.ended = False        # a session_end record exists
        self._build()

    # ---- construction --------------------------------------------------------------
    def _build(self):
        open_step = None
        pause_at = None
        for t, ev, f in self.events:
            self.end_ms = max(self.end_ms, t)
            if ev == "step_start":
                open_step = Step(f.get("index", len(self.steps)), f.get("set", ""), f.get("step", ""),
                                 f.get("kind", ""), t, f.get("rep"), f.get("of"))
                self.steps.append(open_step)
            elif ev == "step_end" and open_step is not None:
                open_step.end_ms = t
                open_step.reason = f.get("reason", "")
                open_step = None
            elif ev == "rep":
                rep = dict(f)
                rep["t_ms"] = t
                self.reps.append(rep)
            elif ev == "sprint_tick":
                self.ticks.append((t, f.get("cadence_spm", 0), f.get("peak_g", 0)))
            elif ev == "cue":
                self.cues.append((t, f.get("pattern", "")))
            elif ev == "pause":
                pause_at = t
            elif ev == "resume" and pause_at is not None:
                self.pauses.append((pause_at, t))
                for s in self.steps[-1:]:
                    s.paused_ms += t - pause_at
                pause_at = None
            elif ev == "session_end":
                self.ended = True
            elif ev in ("sensor_fault", "plan_fallback", "sim_stopped", "store_fault"):
                self.problems.append((t, ev, f.get("error") or f.get("why") or ""))
        if pause_at is not None:
            self.pauses.append((pause_at, self.end_ms))
            if self.steps:
                self.steps[-1].paused_ms += self.end_ms - pause_at
        if open_step is not None:     # cut short (power loss, sim stopped): close at the last record
            open_step.end_ms = self.end_ms
            open_step.reason = "session_end"
        self._intensities()

    def _intensities(self):
        """Sets before the first sprint set warm up, sets after the last one cool down."""
        sprint_sets = [s.set for s in self.steps if s.kind in ("sprint", "recovery")]
        if not sprint_sets:
            return
        first = next(i for i, s in enumerate(self.steps) if s.set == sprint_sets[0])
        last = max(i for i, s in enumerate(self.steps) if s.set == sprint_sets[-1])
        for i, s in enumerate(self.steps):
            if s.kind == "recovery":
                s.intensity = RECOVERY
            elif i < first:
                s.intensity = WARMUP
            elif i > last:
                s.intensity = COOLDOWN
            else:
                s.intensity = ACTIVE

    # ---- views ---------------------------------------------------------------------
    @property
    def plan_name(self):
        return self.header.get("plan") or self.header.get("plan_name") or "Sprintwatch session"

    @property
    def paused_ms(self):
        return sum(b - a for a, b in self.pauses)

    def start_time(self, fallback=None):
        """Wall-clock start (aware UTC datetime): the log's when the clock was set, else ``fallback``."""
        wall = self.header.get("wall_s")
        if wall is not None and self.header.get("clock_set", True):
            return datetime.datetime.fromtimestamp(wall, datetime.timezone.utc)
        if fallback is not None:
            return fallback
        return datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)

    def ticks_between(self, a, b):
        return [x for x in self.ticks if a <= x[0] <= b]

    def rep_in(self, step):
        """The rep event that ended within ``step``, or None."""
        return next((r for r in self.reps if step.start_ms <= r["t_ms"] <= step.end_ms), None)

    def step_cadence(self, step):
        """(avg, max) steps/min in a step: from its ticks, else from its rep's figures, else None."""
        spms = [c for _t, c, _g in self.ticks_between(step.start_ms, step.end_ms) if c]
        if spms:
            return sum(spms) / len(spms), max(spms)
        rep = self.rep_in(step) if step.kind == "sprint" else None
        if rep and rep.get("cadence_spm"):
            return rep["cadence_spm"], rep.get("peak_cadence_spm") or rep["cadence_spm"]
        return None

    def cadence(self):
        """(avg, max) steps/min over the whole session's sprints, or None."""
        spms = [c for _t, c, _g in self.ticks if c]
        if spms:
            return sum(spms) / len(spms), max(spms)
        per_step = [self.step_cadence(s) for s in self.steps if s.kind == "sprint"]
        per_step = [c for c in per_step if c]
        if not per_step:
            return None
        return sum(a for a, _m in per_step) / len(per_step), max(m for _a, m in per_step)

    def completed_reps(self):
        """Reps the runner finished (not skipped)."""
        return [r for r in self.reps if r.get("reason") != "skipped"]

    def planned_reps(self):
        """How many sprints the plan had (the ``of`` of the sprint steps), or the reps run."""
        ofs = [s.of for s in self.steps if s.kind == "sprint" and s.of]
        return max(ofs) if ofs else len(self.reps)


def steps_per_min_to_fit(spm):
    """Running cadence in FIT's units: (strides per minute, fractional part)."""
    strides = spm / 2.0
    whole = int(strides)
    return whole, round((strides - whole) * 128) / 128.0


def step_distances(session):
    """{position in ``session.steps``: metres} for sprint steps whose plan step gave
    ``distance_m`` (logged in its ``step_start``) and that were run, not skipped or cut."""
    starts = [f for _t, ev, f in session.events if ev == "step_start"]
    out = {}
    for i, (step, fields) in enumerate(zip(session.steps, starts)):
        d = fields.get("distance_m")
        if (step.kind == "sprint" and step.reason not in ("skipped", "session_end")
                and isinstance(d, (int, float)) and not isinstance(d, bool) and 0 < d <= 100000):
            out[i] = float(d)
    return out


def moving_seconds(session, step):
    """A sprint's running time: its rep's duration (from the go cue), else the lap's timer time."""
    rep = session.rep_in(step)
    if rep and isinstance(rep.get("duration_ms"), (int, float)) and rep["duration_ms"] > 0:
        return rep["duration_ms"] / 1000.0
    return step.timer_ms / 1000.0
