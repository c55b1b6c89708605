"""Runs the app on a real board: asyncio tasks for the sensor, the button and the service loop.

The work itself is in plain methods that take ``now`` (ms since session start), so
tests drive them in virtual time with fake parts; the tasks only call them on a
schedule and sleep with ``asyncio.sleep_ms`` (never a blocking sleep):

- sensor task, every ``READ_MS``: drain the chip's FIFO and feed ``app.sample`` one
  sample at a time, each with its own time (the newest taken "now", the older ones a
  sample period apart);
- service task, every ``SERVICE_MS``: feed queued button edges to ``app.button``,
  then ``app.service(now)`` (gestures, engine deadlines, cue playback).

A sensor that is missing, fails ``RETRIES`` reads in a row, sends stuck values or
no samples for ``NO_DATA_MS`` puts the device in button-only mode: a log record
(``sensor_fault`` with the reason, then ``button_only``), the error cue and the
button-only cue; the session goes on.
"""
import array

from drivers.sensor import SensorError
from swcore.cues import CUE_BUTTON_ONLY, CUE_RESUME_ASK
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

READ_MS = const(100)
SERVICE_MS = const(10)
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
        """One pass of both tasks at ``now`` (tests and simple loops)."""
        if now >= self.next_read:
            self.read_sensor(now)
            self.next_read += READ_MS
            if self.next_read <= now:
                self.next_read = now + READ_MS
        self.service(now)

    # ---- asyncio -------------------------------------------------------------
    async def _sensor_task(self, sleep_ms):
        while not self.finished and self.parts.sensor is not None:
            self.read_sensor(self.clock.now())
            await sleep_ms(READ_MS)

    async def _service_task(self, sleep_ms):
        while not self.finished:
            self.service(self.clock.now())
            await sleep_ms(SERVICE_MS)

    async def main(self):
        import asyncio
        sleep_ms = getattr(asyncio, "sleep_ms", None)
        if sleep_ms is None:                        # CPython's asyncio (tests)
            def sleep_ms(ms):
                return asyncio.sleep(ms / 1000)
        self.start(self.clock.now())
        for coro in self.background:
            asyncio.create_task(coro)
        sensor = asyncio.create_task(self._sensor_task(sleep_ms))
        await self._service_task(sleep_ms)
        self.finished = True
        await sensor
        self.parts.output.off()

    def run(self):
        import asyncio
        asyncio.run(self.main())
