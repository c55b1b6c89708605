"""Raw capture: the accelerometer at the sensor rate into the session log.

Turned on by ``"capture": true`` in the plan (docs/plan-format.md). Each sample goes into a
preallocated block (allocation-free, like the rest of the hot path); a full block (one
second, at most 100 samples) becomes one ``accel_raw`` record: the first sample, then the
change from each sample to the next, as zigzag varints (docs/log-format.md). The blocks go
straight to the log writer, not to the other sinks: the simulator's recorder and the console
never see them.

A capture never costs the session: when the flash runs low (the writer is no longer at
``LEVEL_OK``, so no unsynced session is deleted for it) the capture stops for good, with a
``capture_stopped`` record and the warning cue; the session goes on, logged as usual.
``sprintwatch log export-trace`` turns the records back into a trace file.
"""
from array import array

MAX_BLOCK = 100          # samples in one record: 1 s at up to 100 Hz, under MAX_BODY worst case


def capture_wanted(plan_text):
    """Whether the (already validated) plan asks for raw capture."""
    if not plan_text or '"capture"' not in plan_text:
        return False
    import json
    try:
        doc = json.loads(plan_text)
    except ValueError:
        return False
    return isinstance(doc, dict) and doc.get("capture") is True


class RawCapture:
    def __init__(self, writer, rate_hz, on_stop):
        """``writer``: the session's log writer (swcore.logstore); ``on_stop(t, event, fields)``
        is told once when capture stops (the app's ``warn``: a record and the warning cue)."""
        self.writer = writer
        self.rate = int(rate_hz)
        self.block_n = min(MAX_BLOCK, self.rate)
        self.buf = array("h", [0] * (3 * self.block_n))
        self.n = 0
        self.t0 = 0
        self.on = True
        self.on_stop = on_stop
        self.blocks = 0

    def add(self, ax, ay, az, t):
        """One sample (milli-g) at ``t`` ms; allocation-free except once a block."""
        if not self.on:
            return
        n = self.n
        if n == 0:
            self.t0 = t
        b = self.buf
        i = 3 * n
        b[i] = ax
        b[i + 1] = ay
        b[i + 2] = az
        n += 1
        self.n = n
        if n == self.block_n:
            self.flush()

    def flush(self):
        if self.n == 0 or not self.on:
            return
        from swcore.logstore import LEVEL_OK
        w = self.writer
        if w.closed or w.level != LEVEL_OK:
            self.stop(self.t0, "the flash is full" if not w.closed else "the log is closed")
            return
        w(self.t0, "accel_raw", {"rate_hz": self.rate, "samples": self.buf[:3 * self.n]})
        self.blocks += 1
        self.n = 0

    def stop(self, t, why):
        if self.on:
            self.on = False
            self.on_stop(t, "capture_stopped", {"why": why, "blocks": self.blocks})
