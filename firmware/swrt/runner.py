"""Runs the app on a board: one asyncio loop that wakes only when something is due.

The work itself is in plain methods that take ``now`` (ms since session start), so
tests drive them in virtual time with fake parts. Each wake-up (``wake``) feeds
queued button edges to ``app.button``, drains the accelerometer's FIFO into
``app.sample`` when it is due (each sample with its own time: the newest taken "now",
the older ones a sample period apart), then ``app.service(now)``; it returns when to
wake next (``next_wake``): the next engine deadline, cue segment, gesture to
recognise or sprint summary, and the next FIFO read. The FIFO is read at its
watermark (7/8 full: ``fifo_ms``), every ``SPRINT_READ_MS`` while a sprint runs (so
the rep's end is cued promptly), and ``RETRY_MS`` after a failed read. A button
press wakes the loop at once where its IRQ can (``ButtonRing``: MicroPython);
elsewhere (CircuitPython's ``keypad``) the button is polled. Between wake-ups the
loop sleeps (``asyncio.sleep_ms``: the port idles the CPU), or light-sleeps where
the parts offer it (``parts.light_sleep``) and nothing needs the clocks: no cue
playing, no Bluetooth task beside the session.

A sensor that is missing, fails ``RETRIES`` reads in a row, sends stuck values or
no samples for ``NO_DATA_MS`` puts the device in button-only mode: a log record
(``sensor_fault`` with the reason, then ``button_only``), the error cue and the
button-only cue; the session goes on.
"""
import array

from drivers.sensor import SensorError
from swcore.cues import CUE_BUTTON_ONLY, CUE_RESUME_ASK, CUE_BATTERY_LOW
from swcore.gestures import TAP

TYPE_CHECKING = False
if TYPE_CHECKING:                       # make typecheck only
    from typing import Any
    from app import App

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

READ_MS = const(100)          # the shortest FIFO read interval (a chip with a small FIFO)
SPRINT_READ_MS = const(200)   # FIFO reads while a sprint runs
RETRY_MS = const(100)         # next read after a failed one
MAX_FIFO_MS = const(1000)     # the longest gap between reads (silent-sensor checks)
POLL_MS = const(100)          # button polling where no IRQ wakes the loop ...
POLL_TIMED_MS = const(500)    # ... and at least this in timed steps (taps skip or pause only)
MAX_SLEEP_MS = const(10000)   # the loop reads the clock at least this often
LIGHT_SLEEP_MIN_MS = const(100)
RETRIES = const(3)
NO_DATA_MS = const(2000)
RESUME_ASK_MS = const(10000)   # how long a cut session's offer waits for its tap


class Runner:
    def __init__(self, app, parts, plan_error=None):
        # type: (App, Any, str | None) -> None    # parts: swrt.mp.Parts or swrt.cp.Parts
        self.app = app
        self.parts = parts
        self.clock = parts.clock
        self.plan_error = plan_error
        self.period_ms = 1000 // parts.rate_hz
        batch = parts.sensor.max_batch if parts.sensor is not None else 1
        self.samples = array.array("h", [0] * 3 * batch)
        # Read when the FIFO (or the driver's batch, if smaller) is 7/8 full.
        self.fifo_ms = max(READ_MS, min(MAX_FIFO_MS, batch * self.period_ms * 7 // 8))
        button = parts.button
        self.button_wakes = button is None or getattr(button, "wakes", False)
        self.light_sleep = getattr(parts, "light_sleep", None)
        self.wakeups = 0
        self.light_sleeps = 0
        self.errors = 0
        self.last_t = -1
        self.last_data = 0
        self.next_read = 0
        self.button_only = False
        self.finished = False
        self.background = []    # coroutines run beside the session (Bluetooth sync)
        self.resume_offer = None    # set by main when a reboot cut a session (ResumeOffer)
        self.asking_until = -1

    # ---- the work, in virtual-time-friendly pieces ----------------------------
    def start(self, now):
        """Start the session, or first ask whether to go on with the one a reboot cut:
        the resume cue, then a tap within RESUME_ASK_MS resumes it, silence starts anew."""
        if self.resume_offer is not None:
            self.asking_until = now + RESUME_ASK_MS
            self.app.player.play(CUE_RESUME_ASK, now)
            return
        self._start(now, None)

    def _answer(self, now, resume):
        self.asking_until = -1
        offer = self.resume_offer
        self.resume_offer = None
        point = offer.accept(self.app) if resume else None
        if point is None:
            offer.decline(self.app)
        else:
            self.clock.shift(point["t_ms"] + 1 - now)
            now = self.clock.now()
            self.last_t = now - 1
        self._start(now, point)

    def _start(self, now, point):
        app = self.app
        mv = getattr(self.parts, "battery_mv", None)
        if mv is not None:                  # the level in the log; low: a cue before the session
            from swcore import battery
            app.emit(now, "battery", battery.record(mv))
            if battery.is_low(mv):
                app.emit(now, "cue", {"pattern": CUE_BATTERY_LOW})
        if point is None:
            app.start(now, self.plan_error)
        else:
            app.engine.resume(point["index"], now, point["reps"])
        for what, detail in self.parts.faults:
            app.fault(now, what, detail)
        self.last_data = now
        self.next_read = now
        if self.parts.sensor is None:
            self.fall_back(now, self.parts.sensor_error or "no accelerometer")

    def fall_back(self, now, detail):
        """Button-only from here on: the session goes on without motion."""
        self.parts.sensor = None
        self.button_only = True
        self.app.sensor_lost()
        self.app.fault(now, "sensor_fault", detail)
        self.app.emit(now, "button_only", {"why": detail})
        self.app.emit(now, "cue", {"pattern": CUE_BUTTON_ONLY})

    def read_sensor(self, now):
        """Drain the FIFO into ``app.sample``; returns the number of samples fed."""
        sensor = self.parts.sensor
        if sensor is None or self.asking_until >= 0:
            return 0
        try:
            n = sensor.read_into(self.samples)
        except SensorError as e:
            self.errors += 1
            if not e.transient or self.errors >= RETRIES:
                self.fall_back(now, str(e))
            return 0
        self.errors = 0
        if n == 0:
            if now - self.last_data >= NO_DATA_MS:
                self.fall_back(now, "%s at 0x%02x: no samples for %d ms"
                               % (sensor.chip, sensor.address, now - self.last_data))
            return 0
        self.last_data = now
        s = self.samples
        app = self.app
        t = now - (n - 1) * self.period_ms
        newest = self.last_t + n * self.period_ms
        if self.last_t >= 0 and now - self.period_ms < newest <= now:
            # the chip samples on its own clock: carry on from the last batch's times
            t = self.last_t + self.period_ms
        try:
            for i in range(n):
                if t <= self.last_t:
                    t = self.last_t + 1
                k = 3 * i
                app.sample(s[k], s[k + 1], s[k + 2], t)
                self.last_t = t
                t += self.period_ms
        except Exception as e:                      # a motion pipeline bug: keep timing
            self.fall_back(now, "motion pipeline: %s" % e)
        return n

    def service(self, now):
        if self.parts.button is not None:
            self.parts.button.drain(self.clock, self.app.button)
        if self.asking_until >= 0:
            g = self.app.gestures.poll(now)
            if g == TAP or now >= self.asking_until:
                self._answer(now, g == TAP)
                now = self.clock.now()
            else:
                self.app.player.service(now)
                return
        self.app.service(now)
        if self.app.engine.done and not self.app.player.busy():
            self.finished = True

    def poll(self, now):
        """Everything due at ``now``: the FIFO if its read is due (or nearly: a read a
        quarter interval early saves a wake-up of its own), then the service."""
        if now >= self.next_read - (self.fifo_ms >> 2):
            self.read_sensor(now)
            self.next_read = now + self.read_interval()
        self.service(now)

    def read_interval(self):
        """ms to the next FIFO read: sooner during a sprint and after a failed read."""
        if self.errors:
            return RETRY_MS
        e = self.app.engine
        if e.step is not None and e.phase == "running" and not e.paused:
            return SPRINT_READ_MS
        return self.fifo_ms

    def next_wake(self, now):
        """When the loop must wake next (never before ``now``, at most MAX_SLEEP_MS on)."""
        t = self.app.next_due(now)
        if self.asking_until >= 0:
            t = self.asking_until if t < 0 or self.asking_until < t else t
        elif self.parts.sensor is not None and (t < 0 or self.next_read < t):
            t = self.next_read
        if not self.button_wakes:
            e = self.app.engine
            poll = POLL_MS
            if e.step is not None and e.step["kind"] == "timed":
                poll = self.fifo_ms if self.fifo_ms > POLL_TIMED_MS else POLL_TIMED_MS
            if t < 0 or now + poll < t:
                t = now + poll
        if t < 0 or t - now > MAX_SLEEP_MS:
            t = now + MAX_SLEEP_MS
        return t if t > now else now

    def wake(self, now):
        """One wake-up of the loop at ``now``; returns the time of the next one."""
        self.wakeups += 1
        self.poll(now)
        return self.next_wake(self.clock.now())

    def may_light_sleep(self, ms):
        """Light sleep stops the PWM and the radio's host task: only with no cue
        playing, no Bluetooth beside the session, and long enough to be worth it."""
        return (self.light_sleep is not None and ms >= LIGHT_SLEEP_MIN_MS and not self.background
                and not self.app.player.busy())

    # ---- asyncio -------------------------------------------------------------
    async def main(self):
        import asyncio
        sleep_ms = getattr(asyncio, "sleep_ms", None)
        if sleep_ms is None:                        # CPython's asyncio (tests)
            def sleep_ms(ms):
                return asyncio.sleep(ms / 1000)
        flag = None
        if self.button_wakes and self.parts.button is not None:
            make = getattr(asyncio, "ThreadSafeFlag", None) or asyncio.Event
            flag = make()
            self.parts.button.waker = flag          # the IRQ sets it: the loop wakes at once
        wait_for = getattr(asyncio, "wait_for_ms", None)
        light_sleep = self.light_sleep
        self.start(self.clock.now())
        for coro in self.background:
            asyncio.create_task(coro)
        while not self.finished:
            ms = self.wake(self.clock.now()) - self.clock.now()
            if ms <= 0:
                await sleep_ms(0)
            elif light_sleep is not None and self.may_light_sleep(ms):
                self.light_sleeps += 1
                light_sleep(ms)                     # a button press ends it (its wake source)
            elif flag is None:
                await sleep_ms(ms)
            else:
                try:
                    if wait_for is not None:
                        await wait_for(flag.wait(), ms)
                    else:
                        await asyncio.wait_for(flag.wait(), ms / 1000)
                except asyncio.TimeoutError:
                    pass
                if hasattr(flag, "clear"):
                    flag.clear()
        self.parts.output.off()

    def run(self):
        import asyncio
        asyncio.run(self.main())
