"""The app: wires a board's runtime (clock, outputs, button, sensor, files) to the core.

Everything here is non-blocking: ``service(now)`` does whatever is due at ``now`` and
returns. On a board, asyncio tasks call it (see ``swrt.runner``); the simulator calls
it from a virtual-time loop. Both run this very code.
"""
from swcore.engine import Engine
from swcore.cues import (CuePlayer, CUE_ERROR, CUE_WARNING, CUE_SLOPE_TURN, CUE_SLOPE_OK,
                         CUE_SLOPE_LOW, CUE_SLOPE_FLAT)
from swcore.gestures import Gestures, NAMES as GESTURE_NAMES, NONE as NO_GESTURE, _earliest

PLAN_FILE = "plan.json"
FIRMWARE_VERSION = "0.1.0"
TICK_MS = 1000       # a sprint_tick (cadence, peak g) every second of a sprint, for plots
_PARSER_MODULES = ("swcore.plan", "swcore.planjson", "swcore.default_plan")


def unload_plan_parser():
    """Drop the plan parser and the built-in plan's source once the steps exist.

    They are needed only at start-up and take about a fifth of a 64 KiB heap;
    on MicroPython, removing them from sys.modules and from their package lets the
    GC take them back.
    """
    _unload(_PARSER_MODULES)


def _unload(names):
    """Forget modules (and their package's reference) so the GC can take them back."""
    import sys
    if sys.implementation.name == "micropython":
        for name in names:
            if name in sys.modules:
                del sys.modules[name]
                package, _, attr = name.rpartition(".")
                parent = sys.modules.get(package)
                if parent is not None and hasattr(parent, attr):
                    delattr(parent, attr)   # the package keeps its submodules alive too


def load_plan(read_text):
    """Return ``(name, steps, text, error)``: the board's plan, or the built-in one.

    ``read_text()`` returns the plan file's text (or bytes) or None when there is
    none. A bad plan never stops the device: whatever the parser raises (a PlanError,
    or anything else, even MemoryError), the built-in session runs with the sensor and
    the session log as usual, and ``error`` says why (an empty file is an error too).
    """
    from swcore import plan as planmod          # imported here so it can be unloaded
    from swcore.default_plan import DEFAULT_PLAN
    error = None
    try:
        text = read_text()
    except Exception as e:  # unreadable file: same fallback as a bad one
        text = None
        error = "plan error: cannot read %s (%s)" % (PLAN_FILE, e)
    if text is not None:
        try:
            name, steps = planmod.parse(text)
            if not isinstance(text, str):
                text = str(text, "utf-8")     # checked UTF-8 by the parser
            return name, steps, text, None
        except planmod.PlanError as e:
            error = str(e)
        except Exception as e:  # the parser's bounds should leave none; never a crash loop
            error = "plan error: %s: %s" % (type(e).__name__, e)
    name, steps = planmod.parse(DEFAULT_PLAN)
    return name, steps, None, error


class App:
    def __init__(self, board, plan_name, steps, sinks=(), motion=None):
        """``board`` gives ``output`` (cue output), optional ``display``;
        ``sinks`` get every event as ``sink(t_ms, event, fields)`` (log writer,
        simulator recorder); ``motion`` is a motion pipeline or None (button only)."""
        self.board = board
        self.plan_name = plan_name
        self.sinks = list(sinks)
        self.player = CuePlayer(board.output)
        self.gestures = Gestures()
        self.engine = Engine(steps, self.emit)
        self.engine.motion_sensing = motion is not None
        self.motion = motion
        self.rate = getattr(motion, "rate", 0)   # samples/s; 0: no sensor, no slope meter
        self.slope = None    # a SlopeMeter while a step measures the slope
        self.tick_at = -1    # next once-a-second sprint summary, -1 outside sprints
        self.tick_peak = 0   # highest magnitude (mg) since the last summary
        self.guard = None    # swcore.formguard.FormGuard, made at the first rep
        display = getattr(board, "display", None)
        # a swcore.screen.Screen gets every change and a tick; a plain display the step names
        self.screen = display if hasattr(display, "tick") else None
        self.capture = None  # a swcore.capture.RawCapture when the plan asks for raw capture

    def emit(self, t, event, fields):
        if event == "cue":
            self.player.play(fields["pattern"], t)
        elif event == "step_start":
            display = getattr(self.board, "display", None)
            if self.screen is not None:
                self.screen.show(t, fields["step"], fields.get("rep", 0), fields.get("of", 0),
                                 self.engine.step.get("measure") == "slope")
            elif display is not None:
                display.show(t, fields["step"], fields.get("rep", 0), fields.get("of", 0))
            if self.rate and self.engine.step.get("measure") == "slope":
                from swcore.slope import SlopeMeter     # only for Sprint Setup: unloaded after
                self.slope = SlopeMeter(self.rate)
        if event == "sprint_go" and self.screen is not None:
            self.screen.go(t)
        if event == "sprint_go" and self.motion is not None:
            try:
                self.motion.arm(self.engine.step.get("cadence_floor_spm", 0))
                self.tick_at = t + TICK_MS
                self.tick_peak = 0
            except Exception as e:
                self._motion_failed(t, e)
        elif event == "rep" and self.motion is not None and fields["motion"] and "steps" not in fields:
            try:
                metrics = self.motion.rep_metrics()   # a rep ended by tap or time: still its figures
                for k in metrics:
                    fields[k] = metrics[k]
            except Exception as e:
                self._motion_failed(t, e)
        elif event == "step_end" and self.motion is not None and fields["kind"] == "sprint":
            self.tick_at = -1
            try:
                self.motion.disarm()
            except Exception as e:
                self._motion_failed(t, e)
        elif event == "step_end" and self.slope is not None:
            self.slope = None
            _unload(("swcore.slope",))
        if event == "session_end" and self.capture is not None:
            self.capture.flush()            # the last part-block, before the log closes
        for sink in self.sinks:
            sink(t, event, fields)
        if event == "rep":
            from swcore.formguard import on_rep     # the form-drop guard (loaded at the first rep)
            on_rep(self, t, fields)
            if self.screen is not None:
                self.screen.rep(fields["duration_ms"], fields.get("cadence_spm", 0))

    def start(self, t, plan_error=None):
        if plan_error:
            self.emit(t, "plan_fallback", {"error": plan_error})
            self.emit(t, "cue", {"pattern": CUE_ERROR})
        self.engine.start(t)

    def fault(self, t, what, detail):
        """A part failed (sensor, storage): log it, cue it, go on without it."""
        self.emit(t, what, {"error": detail})
        self.emit(t, "cue", {"pattern": CUE_ERROR})

    def warn(self, t, what, fields):
        """Something the runner should know (storage full): log it, cue it once."""
        self.emit(t, what, fields)
        self.emit(t, "cue", {"pattern": CUE_WARNING})

    def sensor_lost(self):
        """The accelerometer is gone (the runner's button-only mode): no motion, no slope."""
        self.motion = None
        self.slope = None
        self.rate = 0
        self.engine.motion_sensing = False      # reps no longer say whether one moved

    def sample(self, ax, ay, az, t):
        """One accelerometer sample (milli-g) taken at ``t``; the hot path.

        The rep detector and the slope meter each run in a ``try`` of their own: one
        that raises is switched off with a log record and the error cue (``motion_fault``,
        ``slope_fault``) and the other carries on.
        """
        c = self.capture
        if c is not None:
            try:
                c.add(ax, ay, az, t)
            except Exception as e:
                self.capture = None
                self.fault(t, "capture_fault", "raw capture off: %s" % e)
        m = self.motion
        if m is not None:
            try:
                code = m.feed(ax, ay, az)
                if self.tick_at >= 0 and m.mag > self.tick_peak:
                    self.tick_peak = m.mag
                if code:
                    self._on_motion(t, code)
            except Exception as e:
                self._motion_failed(t, e)
        s = self.slope
        if s is not None:
            try:
                code = s.feed(ax, ay, az)
                if code:
                    self._on_slope(t, code)
            except Exception as e:
                self.slope = None
                self.fault(t, "slope_fault", "slope meter off: %s" % e)

    def _motion_failed(self, t, e):
        """The rep detector raised: off for the rest of the session (taps and time still
        end sprints), the slope meter and everything else go on."""
        self.motion = None
        self.engine.motion_sensing = False
        self.tick_at = -1
        self.fault(t, "motion_fault", "rep detection off: %s" % e)

    def _on_slope(self, t, code):
        from swcore import slope
        m = self.slope
        if code == slope.FIRST:
            self.emit(t, "cue", {"pattern": CUE_SLOPE_TURN})
            return
        if code == slope.NOT_FLAT:
            self.emit(t, "slope_not_flat", {"reading": list(m.last)})
            self.emit(t, "cue", {"pattern": CUE_SLOPE_FLAT})
            return
        g = m.gradient_x10
        verdict = slope.verdict(g)
        self.emit(t, "slope", {"gradient_pct": g / 10, "verdict": verdict,
                               "first": list(m.first), "second": list(m.second)})
        if self.screen is not None:
            self.screen.slope(g / 10, verdict)
        pattern = CUE_SLOPE_OK if verdict == slope.VERDICT_OK else (
            CUE_WARNING if verdict == slope.VERDICT_STEEP else CUE_SLOPE_LOW)
        self.emit(t, "cue", {"pattern": pattern})

    def _on_motion(self, t, code):
        """The pipeline reported ``code`` (swcore.motion) at sample time ``t``.

        Detection needs a few strides, so the pipeline says how long ago the event
        really happened; the engine gets that moment, not the moment it was seen.
        """
        from swcore import motion    # loaded by whoever made the pipeline; not before the plan
        m = self.motion
        at = t - m.lag * 1000 // m.rate
        if code == motion.MOVE_START:
            self.engine.motion_start(at)
        elif code == motion.MOVE_STOP:
            self.engine.motion_stop(at, m.rep_metrics())
        elif code == motion.CADENCE_LOW:
            self.engine.cadence_low(at, m.cadence_spm)

    def button(self, pressed, t):
        self.gestures.edge(pressed, t)

    def service(self, now):
        g = self.gestures.poll(now)
        if g != NO_GESTURE:
            if self.capture is not None:    # the taps label a raw capture (export-trace)
                self.emit(self.gestures.gesture_t, "gesture", {"gesture": GESTURE_NAMES[g]})
            self.engine.gesture(GESTURE_NAMES[g], self.gestures.gesture_t)
        self.engine.tick(self.gestures.settled_until(now))
        while 0 <= self.tick_at <= now and self.motion is not None:
            self.emit(self.tick_at, "sprint_tick", {"cadence_spm": self.motion.cadence_spm,
                                                    "peak_g": self.tick_peak // 10 / 100})
            self.tick_peak = 0
            self.tick_at += TICK_MS
        self.player.service(now)
        if self.screen is not None:
            self.screen.tick(now, self.engine)

    def next_due(self, now):
        """After ``service(now)``: the earliest time it has something to do without a new
        input, or -1: a gesture to recognise, an engine deadline, a cue segment, a
        sprint summary. An engine deadline already past is held back by a pending
        gesture (``Gestures.settled_until``) and waits for it."""
        e = self.engine.next_due()
        if e <= now:
            e = -1
        t = _earliest(self.gestures.next_due(), e)
        t = _earliest(t, self.player.next_due())
        if self.screen is not None:                    # the next second the digits show
            t = _earliest(t, self.screen.next_due(now, self.engine))
        return _earliest(t, self.tick_at)

    def idle(self):
        """True when nothing can happen without a press: no deadline, no cue playing."""
        e = self.engine
        return (e.done or e.paused or (e.deadline < 0 and e.ready_at < 0 and not e.marks)) \
            and not self.player.busy()


def start_log(store, app, plan_text, faults=None):
    """Begin the session file in ``store`` (swcore.logstore) and add its writer to the
    app's sinks. A broken file system never stops the session: the problem goes to
    ``faults`` as ``("storage_fault", detail)`` (the runner cues and logs those at
    start), or straight to ``app.fault`` without a list. Returns the writer or None."""
    try:
        from swcore.logformat import crc32   # = swcore.plan.plan_hash, parser unloaded
        plan_hash = crc32(plan_text.encode()) if plan_text else 0
        writer = store.begin(app.plan_name, plan_hash, FIRMWARE_VERSION, plan_text is None)
    except Exception as e:
        detail = "cannot start the session log: %s" % e
        if faults is None:
            app.fault(0, "storage_fault", detail)
        else:
            faults.append(("storage_fault", detail))
        return None
    writer.on_warning = app.warn
    app.sinks.append(writer)
    if app.motion is not None and plan_text and '"capture"' in plan_text:
        from swcore.capture import capture_wanted, RawCapture
        if capture_wanted(plan_text):
            app.capture = RawCapture(writer, app.motion.rate, app.warn)
    return writer
