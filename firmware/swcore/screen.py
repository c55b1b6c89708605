"""What the screen shows, and when it redraws: a layout over a display driver.

One glance mid-session: the step name, the time in large digits (time left in a timed
step, "ready in" then "left" in a walk back, the run's time in a sprint, elapsed in an
open step), rep n of N, the last rep's time and cadence (the slope reading instead in a
step that measures it), the battery, and a full-screen GO when a sprint starts.

Redraws only what changed: a step start redraws everything (the name, lines and
labels change), a rep or a slope reading its own line, and a passing second only the
digits that changed (usually one), each of those as seven filled segments. The
per-second path (``tick``) compares integers and calls ``fill_rect``: it allocates
nothing (tests run it under ``micropython.heap_lock``).

The driver needs ``width``, ``height``, ``fill_rect(x, y, w, h, rgb565)`` and
``text(bytes, x, y, w, scale, rgb565, background)`` (``drivers.st7789``). Two layouts:
a square 240x240 (CLUE) and a short 240x135 (M5StickC Plus2 on its side); a panel is
short when it is less than 200 pixels tall.
"""
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

from swcore.battery import percent as battery_percent

BLACK = const(0x0000)
WHITE = const(0xFFFF)
GREY = const(0x8C71)
GREEN = const(0x07E0)
YELLOW = const(0xFFE0)
RED = const(0xF800)
CYAN = const(0x07FF)

GO_MS = const(1500)        # how long the full-screen GO stays
BATTERY_MS = const(60000)  # how often the battery is read (when the board can)
NEVER = -1

# Seven segments a..g as bits 0..6, the digits 0-9, then G and O for the GO screen.
_SEGMENTS = b"\x3f\x06\x5b\x4f\x66\x6d\x7d\x07\x7f\x6f"
_G = const(0x3D)
_O = const(0x3F)

# What the digits count (the label above them)
_LEFT = b"LEFT"
_READY_IN = b"READY IN"
_RUN = b"RUN"
_ELAPSED = b"ELAPSED"
_TAP_GO = b"TAP TO GO"
_PAUSED = b"PAUSED"
_VERDICT_COLOUR = {"ok": GREEN, "gentle": YELLOW, "steep": RED}


class Layout:
    """Where everything goes on a ``width`` x ``height`` panel."""

    def __init__(self, width, height):
        self.width = width
        self.height = height
        tall = height >= 200
        self.margin = 6
        self.name_y = 4 if tall else 2
        self.name_scale = 2
        self.bat_w = 26
        self.bat_h = 12
        self.label_y = 30 if tall else 20
        self.label_scale = 2 if tall else 1
        dh = 92 if tall else 58
        th = dh // 9
        dw = min(width * 46 // 240, dh // 2)
        self.digit_w = dw
        self.digit_h = th * 3 + (dh - 3 * th) // 2 * 2
        self.thick = th
        self.gap = max(4, dw // 6)
        self.colon_w = th * 2
        total = 4 * dw + 3 * self.gap + self.colon_w
        x = (width - total) // 2
        self.digit_x = (x, x + dw + self.gap, x + 2 * (dw + self.gap) + self.colon_w + self.gap,
                        x + 3 * (dw + self.gap) + self.colon_w + self.gap)
        self.colon_x = x + 2 * (dw + self.gap)
        self.digit_y = 54 if tall else 32
        self.rep_y = 160 if tall else 96
        self.rep_scale = 3 if tall else 2
        self.last_y = 204 if tall else 117
        self.last_scale = 2


def segments(driver, bits, x, y, w, h, th, colour, background):
    """Draw the seven segments of ``bits`` (lit in ``colour``, the rest in ``background``)."""
    h2 = (h - 3 * th) // 2
    side = w - 2 * th
    d = driver          # (a bound method kept in a variable would allocate; calls do not)
    d.fill_rect(x + th, y, side, th, colour if bits & 1 else background)                   # a
    d.fill_rect(x + w - th, y + th, th, h2, colour if bits & 2 else background)            # b
    d.fill_rect(x + w - th, y + 2 * th + h2, th, h2, colour if bits & 4 else background)   # c
    d.fill_rect(x + th, y + 2 * th + 2 * h2, side, th, colour if bits & 8 else background) # d
    d.fill_rect(x, y + 2 * th + h2, th, h2, colour if bits & 16 else background)          # e
    d.fill_rect(x, y + th, th, h2, colour if bits & 32 else background)                    # f
    d.fill_rect(x + th, y + th + h2, side, th, colour if bits & 64 else background)        # g


class Screen:
    def __init__(self, driver):
        self.d = driver
        self.lay = Layout(driver.width, driver.height)
        self.name = b""
        self.rep_text = b""
        self.last_text = b""
        self.last_colour = WHITE
        self.measuring = False     # the step measures the slope: its line shows the reading
        self.slope_text = b"SLOPE: LAY FLAT"
        self.slope_colour = GREY
        self.battery_pct = -1
        self.shown = bytearray(b"\xff\xff\xff\xff")   # digits on the panel, 0xff: none
        self.shown_secs = -1
        self.label = None
        self.digit_colour = WHITE
        self.offering = False
        self.go_until = NEVER
        self.battery_mv = None     # the runtime's reader: battery_mv() -> mV, or None
        self.battery_at = 0
        self.up = False            # the digits count up (else down)
        self.next_label = _LEFT
        self.next_colour = WHITE

    # ---- events (each redraws what it changes; these may allocate) -------------------
    def show(self, t, step, rep, of, measure=False):
        """A step started: everything is redrawn."""
        self.name = step.upper().encode()
        self.rep_text = ("REP %d OF %d" % (rep, of)).encode() if of else b""
        self.measuring = measure
        if measure:
            self.slope_text = b"SLOPE: LAY FLAT"
            self.slope_colour = GREY
        self.offering = False
        if self.go_until == NEVER:
            self.redraw()

    def go(self, t):
        """A sprint started: GO across the whole screen for GO_MS."""
        lay = self.lay
        d = self.d
        d.fill_rect(0, 0, lay.width, lay.height, GREEN)
        h = lay.height * 2 // 3
        w = min(h * 5 // 9, lay.width * 2 // 5)
        th = max(6, h // 8)
        gap = w // 4
        x = (lay.width - 2 * w - gap) // 2
        y = (lay.height - h) // 2
        segments(d, _G, x, y, w, h, th, BLACK, GREEN)
        segments(d, _O, x + w + gap, y, w, h, th, BLACK, GREEN)
        self.go_until = t + GO_MS

    def rep(self, duration_ms, cadence_spm):
        """A rep ended: its time and cadence on the last line."""
        text = "LAST %d.%dS" % (duration_ms // 1000, duration_ms % 1000 // 100)
        if cadence_spm:
            text += " %dSPM" % cadence_spm
        self.last_text = text.encode()
        self.last_colour = WHITE
        if not self.measuring and self.go_until == NEVER:
            self._line_last()

    def slope(self, gradient_pct, verdict):
        self.slope_text = ("SLOPE %.1f%% %s" % (gradient_pct, verdict)).encode()
        self.slope_colour = _VERDICT_COLOUR.get(verdict, WHITE)
        if self.measuring and self.go_until == NEVER:
            self._line_last()

    def battery(self, pct):
        """Battery charge 0-100 (None: unknown, nothing drawn); redrawn when it changes."""
        pct = -1 if pct is None else max(0, min(100, int(pct)))
        if pct != self.battery_pct:
            self.battery_pct = pct
            if self.go_until == NEVER:
                self._battery()

    def redraw(self):
        lay = self.lay
        d = self.d
        d.fill_rect(0, 0, lay.width, lay.height, BLACK)
        self._name()
        self._battery()
        self.label = None
        for i in range(4):
            self.shown[i] = 0xFF
        self.shown_secs = -1
        th = lay.thick
        cx = lay.colon_x + (lay.colon_w - th) // 2
        d.fill_rect(cx, lay.digit_y + lay.digit_h // 3 - th // 2, th, th, GREY)
        d.fill_rect(cx, lay.digit_y + lay.digit_h * 2 // 3 - th // 2, th, th, GREY)
        self._line_rep()
        self._line_last()

    # ---- the per-second path: allocation-free -----------------------------------------
    def tick(self, now, e):
        """Called from the app's service loop: redraw the digits whose value changed."""
        if self.go_until != NEVER:
            if now < self.go_until:
                return
            self.go_until = NEVER
            self.redraw()
        if self.battery_mv is not None and now >= self.battery_at:
            self.battery_at = now + BATTERY_MS
            self.battery(battery_percent(self.battery_mv()))
        step = e.step
        if step is None:
            return
        v = self._value(now, e)
        up = self.up
        label = self.next_label
        colour = self.next_colour
        if v < 0:
            v = 0
        secs = v // 1000 if up else (v + 999) // 1000
        if e.end_offer != self.offering:
            self.offering = e.end_offer
            self._line_rep()
        if label is not self.label:
            self.label = label
            lay = self.lay
            self.d.text(label, lay.margin, lay.label_y, lay.width - 2 * lay.margin, lay.label_scale, GREY, BLACK)
        if colour != self.digit_colour:
            self.digit_colour = colour
            for i in range(4):
                self.shown[i] = 0xFF
        elif secs == self.shown_secs:
            return
        self.shown_secs = secs
        if secs > 5999:
            secs = 5999
        m = secs // 60
        s = secs % 60
        self._digit(0, m // 10)
        self._digit(1, m % 10)
        self._digit(2, s // 10)
        self._digit(3, s % 10)

    def _value(self, now, e):
        """ms the digits stand for (and, in ``up``/``next_label``/``next_colour``, how to
        show them): time left, or time since a start. Allocation-free."""
        at = e.pause_start if e.paused else now
        kind = e.step["kind"]
        self.up = False
        colour = WHITE
        if kind == "timed":
            v = e.deadline - at
            label = _LEFT
        elif kind == "recovery":
            if e.ready_at != NEVER:
                v = e.ready_at - at
                label = _READY_IN
                colour = GREY
            else:
                v = e.deadline - at
                label = _LEFT
                colour = GREEN
        elif kind == "sprint" and e.phase == "running":
            v = at - e.sprint_start
            label = _RUN
            self.up = True
            colour = YELLOW
        elif kind == "sprint":
            v = 0
            label = _TAP_GO
            colour = GREEN
        else:
            v = at - e.step_start
            label = _ELAPSED
            self.up = True
        if e.paused:
            label = _PAUSED
            colour = GREY
        self.next_label = label
        self.next_colour = colour
        return v

    def next_due(self, now, e):
        """When the screen next has something to draw without an input (for a runner that
        sleeps between deadlines): the next second the digits change, GO's end, the
        battery's next reading; -1 when nothing will change (paused, no step)."""
        if self.go_until != NEVER:
            return self.go_until
        t = NEVER
        if e.step is not None and not e.paused and not (e.step["kind"] == "sprint" and e.phase != "running"):
            v = self._value(now, e)
            if v > 0:
                r = v % 1000
                t = now + (1000 - r if self.up else (r if r else 1000))
        if self.battery_mv is not None and (t == NEVER or self.battery_at < t):
            t = self.battery_at if self.battery_at > now else now + BATTERY_MS
        return t

    def _digit(self, i, value):
        if self.shown[i] == value:
            return
        self.shown[i] = value
        lay = self.lay
        segments(self.d, _SEGMENTS[value], lay.digit_x[i], lay.digit_y, lay.digit_w, lay.digit_h,
                 lay.thick, self.digit_colour, BLACK)

    # ---- the lines ------------------------------------------------------------------
    def _name(self):
        lay = self.lay
        w = lay.width - 2 * lay.margin - lay.bat_w - 4
        scale = lay.name_scale if len(self.name) * 6 * lay.name_scale <= w else 1
        y = lay.name_y + (4 if scale == 1 else 0)
        self.d.fill_rect(lay.margin, lay.name_y, w, 8 * lay.name_scale, BLACK)
        self.d.text(self.name, lay.margin, y, w, scale, WHITE, BLACK)

    def _battery(self):
        lay = self.lay
        d = self.d
        x = lay.width - lay.margin - lay.bat_w
        y = lay.name_y + 2
        w = lay.bat_w
        h = lay.bat_h
        d.fill_rect(x - 2, y - 2, w + 6, h + 4, BLACK)
        if self.battery_pct < 0:
            return
        colour = RED if self.battery_pct <= 15 else WHITE
        d.fill_rect(x, y, w, 2, colour)
        d.fill_rect(x, y + h - 2, w, 2, colour)
        d.fill_rect(x, y, 2, h, colour)
        d.fill_rect(x + w - 2, y, 2, h, colour)
        d.fill_rect(x + w, y + h // 3, 3, h // 3, colour)       # the terminal
        level = (w - 6) * self.battery_pct // 100
        d.fill_rect(x + 3, y + 3, level, h - 6, GREEN if self.battery_pct > 15 else RED)

    def _line_rep(self):
        lay = self.lay
        text = b"END SET? TAP" if self.offering else self.rep_text
        colour = YELLOW if self.offering else CYAN
        self.d.text(text, lay.margin, lay.rep_y, lay.width - 2 * lay.margin, lay.rep_scale, colour, BLACK)

    def _line_last(self):
        lay = self.lay
        if self.measuring:
            text, colour = self.slope_text, self.slope_colour
        else:
            text, colour = self.last_text, self.last_colour
        self.d.text(text, lay.margin, lay.last_y, lay.width - 2 * lay.margin, lay.last_scale, colour, BLACK)
