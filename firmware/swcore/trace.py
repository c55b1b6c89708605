"""Accelerometer traces (docs: ../shared/traces/FORMAT.md): read and resample.

A trace is CSV ``t_ms,ax,ay,az`` (milli-g, uneven timing allowed, times from the first sample;
decimal numbers are rounded). ``TraceReader``
streams it at a fixed sensor rate with linear interpolation, in integer maths, so
the simulated board, ``sprintwatch analyze`` and the benchmark all feed the motion
pipeline exactly the same samples. A denser recording is averaged down (like a
sensor's own filter at a lower data rate), a sparser one interpolated.
"""

HEADER = "t_ms,ax,ay,az"
STILL = (0, 0, 1000)     # a device lying still: 1 g on one axis
MAX_SPAN_MS = 48 * 3600 * 1000   # longer than any session: a clock jump, not a recording


def _number(text):
    """An integer field; a decimal one (a tool that wrote 12.5 ms or 981.0 mg) is rounded."""
    try:
        return int(text)
    except ValueError:
        v = float(text)
        if v != v or v in (float("inf"), float("-inf")):
            raise
        return int(round(v))


class TraceError(ValueError):
    """A file that is not a trace; the message names the file and line."""


class TraceReader:
    """Streams a trace CSV resampled to ``rate_hz``; after its end the device lies still."""

    def __init__(self, path, rate_hz):
        self.path = path
        self.f = open(path)
        self.line = 0
        header = self._readline().strip()
        if header.startswith("\ufeff"):     # a byte-order mark from a spreadsheet's export
            header = header[1:]
        if header != HEADER:
            self.f.close()
            raise TraceError("%s: not a trace file (first line %s, expected %s)" % (path, repr(header), HEADER))
        self.rate = int(rate_hz)
        self.line = 1
        self.t0 = None        # times count from the first sample's (FORMAT.md), whatever it says
        self.last_t = -1
        self.k = 0
        self.prev = None
        self.next = self._read()
        self.ended = self.next is None

    def _read(self):
        while True:
            line = self._readline()
            if not line:
                self.f.close()
                return None
            self.line += 1
            line = line.strip()
            if not line:
                continue
            p = line.split(",")
            try:
                if len(p) != 4:
                    raise ValueError
                rec = (_number(p[0]), _number(p[1]), _number(p[2]), _number(p[3]))
            except ValueError:
                self.f.close()
                raise TraceError("%s: line %d: expected t_ms,ax,ay,az as numbers, got %s"
                                 % (self.path, self.line, repr(line[:60])))
            if self.t0 is None:
                self.t0 = rec[0]
            elif rec[0] <= self.last_t:
                self.f.close()
                raise TraceError("%s: line %d: t_ms %d does not increase" % (self.path, self.line, rec[0]))
            elif rec[0] - self.t0 > MAX_SPAN_MS:
                self.f.close()
                raise TraceError("%s: line %d: t_ms %d is more than 48 h after the first sample"
                                 % (self.path, self.line, rec[0]))
            self.last_t = rec[0]
            return (rec[0] - self.t0, rec[1], rec[2], rec[3])

    def _readline(self):
        try:
            return self.f.readline()
        except UnicodeError:          # CPython: bytes that are not UTF-8 text
            self.f.close()
            raise TraceError("%s: line %d: not text (a CSV file is expected)" % (self.path, self.line + 1))

    def sample(self):
        """The next sample at the sensor rate, as (ax, ay, az) milli-g.

        Where the recording is denser than the sensor rate, the recording's samples
        since the previous output are averaged, as a sensor's own low-pass filter
        would; where it is sparser, it is interpolated linearly.
        """
        num = self.k * 1000       # the sample's time is num / rate ms
        rate = self.rate
        self.k += 1
        n = sx = sy = sz = 0
        while self.next is not None and self.next[0] * rate <= num:
            self.prev = self.next
            sx += self.prev[1]
            sy += self.prev[2]
            sz += self.prev[3]
            n += 1
            self.next = self._read()
        if n > 1:
            return (sx // n, sy // n, sz // n)
        if self.next is None:
            self.ended = True
            return self.prev[1:] if self.prev else STILL
        b = self.next
        if self.prev is None:
            return b[1:]
        a = self.prev
        if a[0] * rate == num:
            return a[1:]
        span = (b[0] - a[0]) * rate
        x = num - a[0] * rate
        return (a[1] + (b[1] - a[1]) * x // span, a[2] + (b[2] - a[2]) * x // span,
                a[3] + (b[3] - a[3]) * x // span)

