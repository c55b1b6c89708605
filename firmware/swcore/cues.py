"""Cue patterns as data, and a non-blocking player that never overlaps two cues.

A pattern is written as segments ``(duration_ms, tone_hz, motor)``: tone_hz 0 is
silence, motor 1 runs the vibration motor. The same pattern drives the buzzer and
the motor together, so a runner who cannot hear the beep still feels it. Patterns
are kept packed, three bytes a segment (10 ms, 100 Hz units): as tuples they took
about 7 KiB of a 64 KiB heap.
"""
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

CUE_STEP_START = "step_start"
CUE_COUNTDOWN = "countdown"
CUE_SPRINT_GO = "sprint_go"
CUE_SPRINT_END = "sprint_end"
CUE_RECOVERY_READY = "recovery_ready"
CUE_RECOVERY_OVER = "recovery_over"
CUE_SESSION_DONE = "session_done"
CUE_ERROR = "error"
CUE_PAUSE = "pause"
CUE_RESUME = "resume"
CUE_CADENCE_LOW = "cadence_low"
CUE_WARNING = "warning"
CUE_BUTTON_ONLY = "button_only"
CUE_RESUME_ASK = "resume_ask"    # at boot after a cut session: tap to go on with it
CUE_SLOPE_TURN = "slope_turn"    # first slope reading taken: turn the device round
CUE_SLOPE_OK = "slope_ok"        # gradient within the seed's band
CUE_SLOPE_LOW = "slope_low"      # gentler than the band
CUE_EASE_OFF = "ease_off"            # form guard: this rep lost its form against the first ones
CUE_END_SET_OFFER = "end_set_offer"  # form guard: drops in a row; a tap in the walk ends the set
CUE_SET_ENDED = "set_ended"          # the offer was taken: the recovery leads to the next set
CUE_SLOPE_FLAT = "slope_flat"    # lying still but not flat: lay it flat on the slope
CUE_BATTERY_LOW = "battery_low"  # before the session: charge it soon
CUE_DRIVE_USB = "drive_usb"          # CircuitPython: the computer may write the drive
CUE_DRIVE_DEVICE = "drive_device"    # CircuitPython: the firmware owns the drive

_HI = const(2800)
_MID = const(2000)
_LO = const(1200)


def _pack(*segments):
    out = bytearray()
    for length, tone, motor in segments:
        out.append(length // 10)
        out.append(tone // 100)
        out.append(motor)
    return bytes(out)


PATTERNS = {
    CUE_STEP_START: _pack((200, _MID, 1), (100, 0, 0), (200, _MID, 1)),
    CUE_COUNTDOWN: _pack((120, _MID, 1)),
    CUE_SPRINT_GO: _pack((600, _HI, 1)),
    CUE_SPRINT_END: _pack((150, _HI, 1), (80, 0, 0), (150, _MID, 1), (80, 0, 0), (300, _LO, 1)),
    CUE_RECOVERY_READY: _pack((150, _MID, 1), (100, 0, 0), (150, _HI, 1)),
    CUE_RECOVERY_OVER: _pack((300, _HI, 1), (150, 0, 0), (300, _HI, 1), (150, 0, 0), (300, _HI, 1)),
    CUE_SESSION_DONE: _pack((200, _LO, 1), (100, 0, 0), (200, _MID, 1), (100, 0, 0), (500, _HI, 1)),
    CUE_ERROR: _pack((400, _LO, 1), (200, 0, 0), (400, _LO, 1), (200, 0, 0), (400, _LO, 1)),
    CUE_PAUSE: _pack((400, _LO, 1)),
    CUE_RESUME: _pack((100, _MID, 1), (80, 0, 0), (100, _MID, 1)),
    CUE_CADENCE_LOW: _pack((250, 0, 1)),            # a nudge: vibration only
    CUE_WARNING: _pack((250, _LO, 1), (150, 0, 0), (250, _LO, 1)),
    CUE_BUTTON_ONLY: _pack((300, _LO, 1), (150, 0, 0), (150, _MID, 0)),
    CUE_RESUME_ASK: _pack((150, _LO, 1), (100, 0, 0), (150, _MID, 1), (100, 0, 0), (150, _HI, 1)),
    CUE_SLOPE_TURN: _pack((100, _MID, 1), (100, 0, 0), (100, _MID, 1), (100, 0, 0), (100, _MID, 1)),
    CUE_SLOPE_OK: _pack((150, _MID, 1), (80, 0, 0), (300, _HI, 1)),
    CUE_SLOPE_LOW: _pack((300, _MID, 1), (80, 0, 0), (300, _LO, 0)),
    CUE_EASE_OFF: _pack((500, 0, 1), (200, 0, 0), (500, _LO, 1)),
    CUE_END_SET_OFFER: _pack((300, _HI, 1), (100, 0, 0), (300, _MID, 1), (100, 0, 0), (600, _LO, 1)),
    CUE_SET_ENDED: _pack((600, _LO, 1), (150, 0, 0), (150, _LO, 0)),
    CUE_SLOPE_FLAT: _pack((500, _LO, 1), (100, 0, 0), (100, _LO, 1)),
    CUE_BATTERY_LOW: _pack((200, _HI, 1), (100, 0, 0), (200, _MID, 1), (100, 0, 0), (400, _LO, 1)),
    CUE_DRIVE_USB: _pack((100, _LO, 0), (80, 0, 0), (100, _LO, 0), (80, 0, 0), (100, _LO, 0)),
    CUE_DRIVE_DEVICE: _pack((100, _HI, 0)),
}

_QUEUE_MAX = const(6)
_LATE_MS = const(100)  # a cue found later than this starts now rather than truncated


def segments(name):
    """A pattern as [(duration_ms, tone_hz, motor), ...]."""
    p = PATTERNS[name]
    return [(p[i] * 10, p[i + 1] * 100, p[i + 2]) for i in range(0, len(p), 3)]


def duration(name):
    p = PATTERNS[name]
    return sum(p[i] for i in range(0, len(p), 3)) * 10


class CuePlayer:
    """Plays queued patterns one after another on ``output.apply(t_ms, tone_hz, motor)``.

    ``service(now)`` is called often (every loop); each segment switches at its own
    absolute time, so a late call never stretches or shortens a cue.
    """

    def __init__(self, output):
        self.output = output
        self.queue = []
        self.pattern = None
        self.seg = 0
        self.seg_end = 0

    def play(self, name, t):
        if name not in PATTERNS:
            name = CUE_ERROR
        if len(self.queue) >= _QUEUE_MAX:
            self.queue.pop(0)
        self.queue.append((name, t))

    def busy(self):
        return self.pattern is not None or bool(self.queue)

    def next_due(self):
        """When ``service`` next has something to switch, or -1 when nothing plays."""
        if self.pattern is not None:
            return self.seg_end
        if self.queue:
            t = self.queue[0][1]
            return t if t > self.seg_end else self.seg_end
        return -1

    def service(self, now):
        while True:
            if self.pattern is None:
                if not self.queue:
                    return
                name, t = self.queue.pop(0)
                # Start at the cue's own time, or when the previous cue ended.
                start = t if t > self.seg_end else self.seg_end
                if now - start > _LATE_MS:
                    start = now
                if start > now:
                    self.queue.insert(0, (name, t))
                    return
                self.pattern = PATTERNS[name]
                self.seg = 0
                self.seg_end = start
                self._enter(start)
                continue
            if self.seg_end > now:
                return
            self.seg += 3
            if self.seg >= len(self.pattern):
                self.pattern = None
                self.output.apply(self.seg_end, 0, 0)
                continue
            self._enter(self.seg_end)

    def _enter(self, t):
        p = self.pattern
        i = self.seg
        self.output.apply(t, p[i + 1] * 100, p[i + 2])
        self.seg_end = t + p[i] * 10
