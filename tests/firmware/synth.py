"""Synthetic accelerometer signals for tests (CPython and MicroPython): integers only."""
from array import array


class Signal:
    """Builds a trace sample by sample: (ax, ay, az) milli-g in an array."""

    def __init__(self, rate, gravity=(0, 0, 1000), seed=7):
        self.rate = rate
        self.g = gravity
        self.data = array("h")
        self.seed = seed

    def _noise(self):
        self.seed = (self.seed * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.seed >> 16) % 41 - 20

    def _put(self, extra_mg):
        gx, gy, gz = self.g
        k = 1000 + extra_mg
        self.data.append(gx * k // 1000 + self._noise())
        self.data.append(gy * k // 1000 + self._noise())
        self.data.append(gz * k // 1000 + self._noise())

    def now_ms(self):
        return len(self.data) // 3 * 1000 // self.rate

    def still(self, seconds):
        for _ in range(int(seconds * self.rate)):
            self._put(0)

    def steps(self, seconds, spm, impact_mg):
        """Stepping at ``spm``: each step a 100 ms landing bump (left and right a bit unlike)."""
        period = 60000 // spm
        t0 = self.now_ms()
        n = int(seconds * self.rate)
        for i in range(n):
            t = i * 1000 // self.rate
            step = t // period
            phase = t - step * period
            peak = impact_mg if step % 2 == 0 else impact_mg * 85 // 100
            if phase < 50:
                extra = peak * phase // 50
            elif phase < 100:
                extra = peak * (100 - phase) // 50
            elif phase < 100 + period // 2:
                extra = -peak // 5
            else:
                extra = 0
            self._put(extra)
        return t0

    def jolts(self, seconds, every_ms, mg):
        """Knocks at random gaps (housework, a car on a rough road); returns how many."""
        n = int(seconds * self.rate)
        next_at = every_ms
        count = 0
        for i in range(n):
            t = i * 1000 // self.rate
            if t >= next_at:
                self._put(mg)
                count += 1
                next_at = t + every_ms // 3 + (self._noise() + 20) * every_ms // 20
            else:
                self._put(0)
        return count

    def samples(self):
        return len(self.data) // 3


def feed_all(pipeline, data, on_event=None):
    """Feed every sample; ``on_event(code, sample_index)`` for each event."""
    feed = pipeline.feed
    for i in range(len(data) // 3):
        code = feed(data[3 * i], data[3 * i + 1], data[3 * i + 2])
        if code and on_event is not None:
            on_event(code, i)
