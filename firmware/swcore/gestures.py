"""Button gestures from timestamped edges: debounced tap, double press and long press.

Edges come from a pin IRQ or from polling (``edge(pressed, t_ms)``, cheap enough
for an IRQ handler: no allocation); ``poll(now)`` turns them into at most one
gesture per call. A gesture carries the time of the press that made it, so a tap is
timed to the moment the finger went down, not to when it was recognised.
"""
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

DEBOUNCE_MS = const(25)
DOUBLE_MS = const(300)   # max gap between a release and the next press of a double
LONG_MS = const(1000)

NONE = 0
TAP = 1
DOUBLE = 2
LONG = 3
NAMES = ("", "tap", "double", "long")


class Gestures:
    def __init__(self):
        self.raw = False
        self.raw_t = 0          # time of the latest raw edge
        self.burst_t = -1       # first edge of the current bounce burst, -1 when quiet
        self.stable = False
        self.press_t = 0
        self.release_t = 0
        self.long_fired = False
        self.tap_pending = False
        self.second = False
        self.gesture_t = 0      # time of the gesture returned by poll()

    def edge(self, pressed, t):
        if pressed == self.raw:
            return
        self.raw = pressed
        self.raw_t = t
        if self.burst_t < 0:
            self.burst_t = t

    def settled_until(self, now):
        """Latest time up to which no gesture can still appear (engine may tick there)."""
        if (self.stable and not self.long_fired) or self.tap_pending:
            return self.press_t
        if self.burst_t >= 0 and not self.long_fired:
            return self.burst_t
        return now

    def next_due(self):
        """The earliest time ``poll`` can report a gesture without a new edge, or -1:
        the end of a bounce burst, a long press, a double press's window."""
        t = -1
        if self.burst_t >= 0:
            t = self.raw_t + DEBOUNCE_MS
        if self.stable and not self.long_fired and not self.second:
            t = _earliest(t, self.press_t + LONG_MS)
        if self.tap_pending and not self.stable:
            t = _earliest(t, self.release_t + DOUBLE_MS)
        return t

    def poll(self, now):
        if self.burst_t >= 0 and now - self.raw_t >= DEBOUNCE_MS:
            t = self.burst_t
            self.burst_t = -1
            if self.raw != self.stable:
                self.stable = self.raw
                g = self._pressed(t) if self.raw else self._released(t)
                if g:
                    return g
        if self.stable and not self.long_fired and not self.second and now - self.press_t >= LONG_MS:
            self.long_fired = True
            self.tap_pending = False
            self.second = False
            self.gesture_t = self.press_t + LONG_MS
            return LONG
        if self.tap_pending and not self.stable and now - self.release_t >= DOUBLE_MS:
            self.tap_pending = False
            self.gesture_t = self.press_t
            return TAP
        return NONE

    def _pressed(self, t):
        if self.tap_pending:
            self.second = True
            self.tap_pending = False
        else:
            self.press_t = t
        self.long_fired = False
        return NONE

    def _released(self, t):
        self.release_t = t
        if self.long_fired:
            return NONE
        if self.second:
            self.second = False
            self.gesture_t = self.press_t
            return DOUBLE
        self.tap_pending = True
        return NONE


def _earliest(a, b):
    """The earlier of two times where -1 means "none"."""
    if a < 0:
        return b
    if b < 0 or a <= b:
        return a
    return b
