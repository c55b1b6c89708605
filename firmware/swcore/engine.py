"""The session engine: a pure state machine over the flat step list from plan.parse.

Events in (``tick``, ``gesture``, ``motion_start``, ``motion_stop``, ``cadence_low``),
each with its time in ms since session start; cues and log records out through
``emit(t_ms, event, fields)``. Every deadline is absolute: a step's end is its start
plus its duration, and a step starts exactly when the one before it ended, so the
engine never drifts however late ``tick`` is called. A pause shifts every pending
deadline by the paused time.
"""
from swcore.cues import (
    CUE_STEP_START, CUE_COUNTDOWN, CUE_SPRINT_GO, CUE_SPRINT_END, CUE_RECOVERY_READY,
    CUE_RECOVERY_OVER, CUE_SESSION_DONE, CUE_PAUSE, CUE_RESUME, CUE_CADENCE_LOW, CUE_SET_ENDED,
)

TAP = "tap"
DOUBLE = "double"
LONG = "long"

COUNTDOWN_MS = (3000, 2000, 1000)
NEVER = -1  # "no deadline"


class Engine:
    def __init__(self, steps, emit):
        self.steps = steps
        self.emit = emit
        self.index = -1
        self.step = None
        self.phase = ""          # sprint: "armed"/"running"; recovery: "walk"/"ready"
        self.step_start = 0
        self.deadline = NEVER    # when the current step (or sprint) ends by time
        self.ready_at = NEVER    # recovery: when the next sprint may start
        self.marks = []          # pending countdown cue times of a timed step
        self.paused = False
        self.pause_start = 0
        self.paused_ms = 0
        self.reps = 0
        self.done = False
        self.sprint_start = 0    # go time shifted by pauses: durations exclude them
        self.sprint_go_t = 0     # when the sprint really started (the logged start)
        self.sprint_paused_ms = 0
        self.first_stride = NEVER
        self.cadence_warned = False
        self.motion_sensing = False   # the app has a motion pipeline: reps say whether one moved
        self.moved_reps = 0
        self.end_offer = False   # the form guard offered to end the set: a tap in this walk accepts
        self.skip_to = NEVER     # the offer was taken: the step after this one (the next set)

    # ---- inputs -------------------------------------------------------------
    def resume(self, index, t, reps):
        """Go on with a session a reboot cut: step ``index`` starts again at ``t``
        (its countdown from the top), with ``reps`` sprints already done."""
        self.reps = reps
        if index < 0 or index >= len(self.steps):
            index = 0
        self._begin(index, t, True)

    def start(self, t):
        self._begin(0, t, True)

    def tick(self, now):
        """Fire every deadline that is due at ``now`` (possibly several steps)."""
        while not self.done and not self.paused:
            if self.marks and self.marks[0] <= now:
                self.emit(self.marks.pop(0), "cue", {"pattern": CUE_COUNTDOWN})
                continue
            if self.ready_at != NEVER and self.ready_at <= now:
                t = self.ready_at
                self.ready_at = NEVER
                self.phase = "ready"
                self.end_offer = False
                self.emit(t, "cue", {"pattern": CUE_RECOVERY_READY})
                continue
            if self.deadline != NEVER and self.deadline <= now:
                t = self.deadline
                kind = self.step["kind"]
                if kind == "sprint":
                    self._end_sprint(t, "max")
                elif kind == "recovery":
                    self.emit(t, "cue", {"pattern": CUE_RECOVERY_OVER})
                    self._advance(t, "max", True)
                else:
                    self._advance(t, "time", True)
                continue
            break

    def gesture(self, kind, t):
        if self.done:
            return
        if kind == LONG:
            if self.paused:
                self._resume(t)
            else:
                self._pause(t)
            return
        if self.paused:
            self.emit(t, "ignored", {"gesture": kind, "why": "paused"})
            return
        self.tick(t)
        if self.done:
            return
        if kind == DOUBLE:
            if self.step["kind"] == "sprint" and self.phase == "running":
                self._end_sprint(t, "skipped")
            else:
                self._advance(t, "skipped", True)
            return
        step_kind = self.step["kind"]
        if step_kind == "open":
            self._advance(t, "tap", True)
        elif step_kind == "sprint":
            if self.phase == "armed":
                self._go(t)
            else:
                self._end_sprint(t, "tap")
        elif step_kind == "recovery":
            if self.end_offer and self.phase == "walk":
                self._end_set(t)
            elif self.phase == "ready":
                self._advance(t, "tap", False)
                if not self.done and self.step["kind"] == "sprint":
                    self._go(t)
                elif not self.done:
                    self.emit(t, "cue", {"pattern": CUE_STEP_START})
            else:
                self.emit(t, "ignored", {"gesture": kind, "why": "recovery not over"})
        else:
            self.emit(t, "ignored", {"gesture": kind, "why": "timed step"})

    def motion_start(self, t):
        """The motion pipeline saw the first stride of a run that began at ``t``."""
        if self._sprinting():
            if self.first_stride == NEVER:
                self.first_stride = max(t, self.sprint_start)
        elif self._waiting_for_sprint_tap():
            # a run where a sprint could start, but no tap: log it, it is no rep
            self.emit(t, "motion_no_tap", {"step": self.step["name"], "index": self.index})

    def motion_stop(self, t, metrics):
        """The runner stopped at ``t``; ``metrics`` are the rep's figures from the pipeline."""
        if self._sprinting() and self.first_stride != NEVER:
            self._end_sprint(max(t, self.first_stride), "motion", metrics)

    def offer_end_set(self):
        """The form guard's offer, made as a sprint ends: a tap during the walk of the
        recovery that follows ends the set (the recovery then leads to the next set).
        The offer lapses when the recovery is ready."""
        self.end_offer = True

    def cadence_low(self, t, spm):
        if self._sprinting() and not self.cadence_warned:
            self.cadence_warned = True
            self.emit(t, "cue", {"pattern": CUE_CADENCE_LOW, "cadence_spm": spm})

    # ---- state --------------------------------------------------------------
    def _sprinting(self):
        return (not self.done and not self.paused and self.step is not None
                and self.step["kind"] == "sprint" and self.phase == "running")

    def _waiting_for_sprint_tap(self):
        if self.done or self.paused or self.step is None:
            return False
        kind = self.step["kind"]
        return (kind == "sprint" and self.phase == "armed") or (kind == "recovery" and self.phase == "ready")

    def next_due(self):
        """The next deadline ``tick`` acts on (countdown mark, recovery ready, step or
        sprint end), or NEVER: nothing happens without an input (paused, open step)."""
        if self.done or self.paused:
            return NEVER
        t = self.deadline
        if self.ready_at != NEVER and (t == NEVER or self.ready_at < t):
            t = self.ready_at
        if self.marks and (t == NEVER or self.marks[0] < t):
            t = self.marks[0]
        return t

    def elapsed(self, now):
        """ms into the current step, not counting pauses."""
        end = self.pause_start if self.paused else now
        return end - self.step_start

    def remaining(self, now):
        """ms until the current deadline, or None for a step that waits for a tap."""
        if self.deadline == NEVER:
            return None
        end = self.pause_start if self.paused else now
        return self.deadline - end

    # ---- transitions --------------------------------------------------------
    def _begin(self, index, t, cue):
        self.index = index
        self.deadline = NEVER
        self.ready_at = NEVER
        self.marks = []
        if index >= len(self.steps):
            self.step = None
            self.done = True
            self.emit(t, "cue", {"pattern": CUE_SESSION_DONE})
            end = {"reps": self.reps, "paused_ms": self.paused_ms}
            if self.motion_sensing:
                end["reps_moving"] = self.moved_reps   # sprints where the runner really ran
            self.emit(t, "session_end", end)
            return
        step = self.steps[index]
        self.step = step
        self.step_start = t
        kind = step["kind"]
        if kind != "recovery":
            self.end_offer = False
        fields = {"set": step["set"], "step": step["name"], "kind": kind, "index": index}
        if "rep" in step:
            fields["rep"] = step["rep"]
            fields["of"] = step["of"]
        if "distance_m" in step:     # logged, so exports know the lap's distance
            fields["distance_m"] = step["distance_m"]
        self.emit(t, "step_start", fields)
        if kind == "timed":
            self.deadline = t + step["duration_ms"]
            self.marks = [self.deadline - c for c in COUNTDOWN_MS if self.deadline - c > t]
            self.phase = ""
        elif kind == "sprint":
            self.phase = "armed"
        elif kind == "recovery":
            self.phase = "walk"
            self.ready_at = t + step["min_ms"]
            self.deadline = t + step["max_ms"]
        else:
            self.phase = ""
        if cue:
            self.emit(t, "cue", {"pattern": CUE_STEP_START})

    def _advance(self, t, reason, cue):
        step = self.step
        self.emit(t, "step_end", {"set": step["set"], "step": step["name"], "kind": step["kind"],
                                  "index": self.index, "reason": reason})
        nxt = self.index + 1 if self.skip_to == NEVER else self.skip_to
        self.skip_to = NEVER
        self._begin(nxt, t, cue)

    def _end_set(self, t):
        """The runner took the offer: this recovery is the set's last step."""
        self.end_offer = False
        here = self.step["set"]
        nxt = self.index + 1
        while nxt < len(self.steps) and self.steps[nxt]["set"] == here:
            nxt += 1
        left = sum(1 for s in self.steps[self.index + 1:nxt] if s["kind"] == "sprint")
        self.skip_to = nxt
        self.emit(t, "cue", {"pattern": CUE_SET_ENDED})
        self.emit(t, "end_set", {"step": self.step["name"], "index": self.index, "sprints_left": left})

    def _go(self, t):
        self.phase = "running"
        self.sprint_start = t
        self.sprint_go_t = t
        self.sprint_paused_ms = 0
        self.first_stride = NEVER
        self.cadence_warned = False
        self.deadline = t + self.step["max_ms"]
        self.emit(t, "cue", {"pattern": CUE_SPRINT_GO})
        self.emit(t, "sprint_go", {"rep": self.step.get("rep", self.reps + 1)})

    def _end_sprint(self, t, reason, metrics=None):
        self.reps += 1
        rep = {"rep": self.step.get("rep", self.reps), "start_ms": self.sprint_go_t,
               "duration_ms": t - self.sprint_start, "reason": reason,
               "motion": self.first_stride != NEVER}
        if self.sprint_paused_ms:        # duration_ms leaves the pause out
            rep["paused_ms"] = self.sprint_paused_ms
        if self.first_stride != NEVER:
            rep["reaction_ms"] = self.first_stride - self.sprint_start
            self.moved_reps += 1
        if metrics:
            for k in metrics:
                rep[k] = metrics[k]
        self.emit(t, "cue", {"pattern": CUE_SPRINT_END})
        self.emit(t, "rep", rep)
        self._advance(t, reason, True)

    def _pause(self, t):
        self.tick(t)
        if self.done:
            return
        self.paused = True
        self.pause_start = t
        self.emit(t, "cue", {"pattern": CUE_PAUSE})
        self.emit(t, "pause", {"step": self.step["name"], "index": self.index})

    def _resume(self, t):
        shift = t - self.pause_start
        self.paused = False
        self.paused_ms += shift
        self.step_start += shift
        if self.deadline != NEVER:
            self.deadline += shift
        if self.ready_at != NEVER:
            self.ready_at += shift
        self.marks = [m + shift for m in self.marks]
        if self.phase == "running":
            self.sprint_start += shift
            self.sprint_paused_ms += shift
            if self.first_stride != NEVER:
                self.first_stride += shift
        self.emit(t, "resume", {"paused_ms": shift})
        self.emit(t, "cue", {"pattern": CUE_RESUME})
