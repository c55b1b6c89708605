"""A decoded session (header, events) seen as steps, reps and once-a-second ticks.

Input is what the firmware's log reader returns (``swcore.logformat.read_session``)
or what the simulator wrote to ``events.jsonl``: a header dict and a list of
``(t_ms, event, fields)``. Nothing here re-reads a log format; the exporters and the
plots all work from :class:`Session`.
"""
import datetime

# FIT/Garmin step intensities, derived from the plan's structure (see intensity()).
WARMUP, ACTIVE, RECOVERY, COOLDOWN = "warmup", "active", "recovery", "cooldown"


WALL_MIN_S = 946684800                # 2000-01-01
WALL_MAX_S = 4102444800                # 2100-01-01
MAX_CADENCE_SPM = 508
MAX_T_MS = 30 * 24 * 3600 * 1000    # a record later than 30 days into a session is damage


def _number(v):
    """A finite number (bools are not), else None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if v != v or v in (float("inf"), float("-inf")):
        return None
    return v


def _positive(v, most=1e9):
    """A number from 0 to ``most``, else None."""
    v = _number(v)
    return v if v is not None and 0 <= v <= most else None


def _cadence(v):
    """Steps a minute a FIT file can hold (at most 254 strides, so 508 steps), else None."""
    return _positive(v, MAX_CADENCE_SPM)


def _count(v, default=None):
    """A whole number from 0 to 65534 (FIT's uint16), else ``default``."""
    return v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 0xFFFF else default


def _text(v):
    return v if isinstance(v, str) else ("" if v is None else str(v))


def _rep(fields, t):
    """A rep event's fields with t_ms added, figures that are not sane numbers dropped."""
    rep = dict(fields)
    rep["t_ms"] = t
    for key in ("start_ms", "duration_ms", "reaction_ms", "steps", "cadence_spm", "peak_g",
                "peak_cadence_spm"):
        if key in rep:
            most = MAX_CADENCE_SPM if key.endswith("cadence_spm") else MAX_T_MS
            if _positive(rep[key], most) is None:
                del rep[key]
    if "start_ms" in rep and rep["start_ms"] > t:
        del rep["start_ms"]
    if "reason" in rep:
        rep["reason"] = _text(rep["reason"])
    return rep


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
    # Every session the reader accepts must build: records may be missing (skipped by
    # their CRC), cut (power lost while paused) or hold odd values (a CRC-valid record
    # of any types). So no step ends before it starts, a step ends where the next begins,
    # a pause ends at the first record that cannot happen while paused, and every
    # figure is a number of the right sign or absent.
    # Only a running engine logs these (sprint ticks and reps go on during a pause).
    RUNNING_EVENTS = ("step_start", "step_end", "sprint_go", "session_end", "resumed")

    def _build(self):
        open_step = None
        pause_at = None
        clock = 0
        for raw_t, ev, f in self.events:
            if raw_t < 0 or raw_t > MAX_T_MS:
                self.problems.append((clock, "bad_time", "%s record at t_ms %d ignored" % (ev, raw_t)))
                continue
            t = raw_t                   # (a rep's end may come a few seconds before
            clock = t                   # records logged while detecting it: not sorted)
            self.end_ms = max(self.end_ms, t)
            if pause_at is not None and ev in self.RUNNING_EVENTS:
                self.pauses.append((pause_at, t))     # its resume record was lost
                pause_at = None
            if ev == "step_start":
                if open_step is not None:             # its step_end was lost
                    open_step.end_ms = max(t, open_step.start_ms)
                    open_step.reason = "unknown"
                open_step = Step(_count(f.get("index"), len(self.steps)), _text(f.get("set")),
                                 _text(f.get("step")), _text(f.get("kind")), t,
                                 _count(f.get("rep")), _count(f.get("of")))
                self.steps.append(open_step)
            elif ev == "step_end" and open_step is not None:
                open_step.end_ms = max(t, open_step.start_ms)
                open_step.reason = _text(f.get("reason"))
                open_step = None
            elif ev == "rep":
                self.reps.append(_rep(f, t))
            elif ev == "sprint_tick":
                self.ticks.append((t, _cadence(f.get("cadence_spm")) or 0, _positive(f.get("peak_g")) or 0))
            elif ev == "cue":
                self.cues.append((t, _text(f.get("pattern"))))
            elif ev == "pause":
                if pause_at is None:
                    pause_at = t
            elif ev == "resume":
                if pause_at is None:                  # its pause record was lost
                    paused = _number(f.get("paused_ms")) or 0
                    prev_end = self.pauses[-1][1] if self.pauses else 0
                    pause_at = max(prev_end, t - int(paused))
                    if self.steps:
                        pause_at = max(pause_at, self.steps[-1].start_ms)
                self.pauses.append((pause_at, t))
                pause_at = None
            elif ev == "session_end":
                self.ended = True
            elif ev in ("sensor_fault", "plan_fallback", "sim_stopped", "store_fault"):
                self.problems.append((t, ev, _text(f.get("error") or f.get("why") or "")))
        if pause_at is not None:        # cut while paused: paused to the last record
            self.pauses.append((pause_at, self.end_ms))
        merged = []                   # in time order, overlaps joined: none counted twice
        for a, z in sorted(p for p in self.pauses if p[1] > p[0]):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(z, merged[-1][1]))
            else:
                merged.append((a, z))
        self.pauses = merged
        if open_step is not None:     # cut short (power loss, sim stopped): close at the last record
            open_step.end_ms = self.end_ms
            open_step.reason = "session_end"
        for step in self.steps:       # each step's share of every pause
            step.paused_ms = sum(max(0, min(z, step.end_ms) - max(a, step.start_ms)) for a, z in self.pauses)
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
        return _text(self.header.get("plan") or self.header.get("plan_name")) or "Sprintwatch session"

    @property
    def paused_ms(self):
        return sum(b - a for a, b in self.pauses)

    def start_time(self, fallback=None):
        """Wall-clock start (aware UTC datetime): the log's when the clock was set, else ``fallback``."""
        wall = _number(self.header.get("wall_s"))
        if wall is not None and not WALL_MIN_S <= wall <= WALL_MAX_S:
            wall = None                 # not a date a FIT file can hold: treat as unset
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
