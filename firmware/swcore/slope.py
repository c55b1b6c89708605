"""Slope gradient from the accelerometer: device flat on the slope, read twice, turned 180°.

Lying on the slope, the device feels gravity tilted by the slope's angle: the part
of gravity in its own x-y plane is ``g·sin(angle)`` (plus the sensor's offset). Turned
half a circle on the same spot, that part flips sign while the offset stays, so half
the difference of the two readings is the slope alone:

    s = (first_xy - second_xy) / 2,   gradient % = 100 · |s| / mean z

``SlopeMeter`` takes samples, waits for the device to lie still for a second (first
reading), for it to be picked up and turned, and still again (second reading). A still
reading that is not flat (worn upright, held on edge: gravity not mostly on z) is no
reading: ``feed`` says NOT_FLAT once (the app cues "lay it flat") and keeps waiting,
so the gradient is only ever taken from two flat readings and ``feed`` never raises.
"""
from array import array

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

NONE = const(0)
FIRST = const(1)     # first reading taken: turn the device round
DONE = const(2)      # second reading taken: ``gradient_x10`` is ready
NOT_FLAT = const(3)  # lying still but not flat: lay it flat (said once until it is)

BAND_LOW_PCT = const(5)     # the seed: "a downhill gradient of about 5-10%"
BAND_HIGH_PCT = const(10)
STILL_MG = const(40)        # each axis within this range over the window: lying still
MOVED_MG = const(150)       # an axis range beyond this: picked up and turned
# Flat: gravity's part in the x-y plane at most FLAT_TAN_X100 % of its z part (tan 20°,
# twice the steepest slope worth sprinting down), and z at least MIN_Z_MG.
FLAT_TAN_X100 = const(36)
MIN_Z_MG = const(700)

VERDICT_GENTLE = "gentle"
VERDICT_OK = "ok"
VERDICT_STEEP = "steep"


def _isqrt(n):
    if n <= 0:
        return 0
    x = n
    y = (x + 1) >> 1
    while y < x:
        x = y
        y = (x + n // x) >> 1
    return x


def gradient_x10(first, second):
    """Gradient in tenths of a percent from two (x, y, z) mean readings in milli-g."""
    sx = first[0] - second[0]          # twice the slope's part, offset cancelled
    sy = first[1] - second[1]
    z = first[2] + second[2]           # twice the normal part
    if z < 0:
        z = -z
    if z == 0:
        raise ValueError("slope: the device is not lying flat (no gravity on its z axis)")
    return (_isqrt(sx * sx + sy * sy) * 1000 + z // 2) // z


def is_flat(x, y, z):
    """True when a still reading (milli-g) has gravity mostly on the z axis."""
    if z < 0:
        z = -z
    return z >= MIN_Z_MG and (x * x + y * y) * 10000 <= FLAT_TAN_X100 * FLAT_TAN_X100 * z * z


def verdict(grad_x10):
    if grad_x10 > BAND_HIGH_PCT * 10:
        return VERDICT_STEEP
    if grad_x10 < BAND_LOW_PCT * 10:
        return VERDICT_GENTLE
    return VERDICT_OK


class SlopeMeter:
    def __init__(self, rate_hz):
        self.window = max(5, int(rate_hz))   # one second of samples
        self.first = None
        self.second = None
        self.gradient_x10 = -1
        self.moved = False
        self.flat_warned = False     # NOT_FLAT said since the last flat reading
        self.last = None             # the latest still reading that was not flat
        self.lo = array("h", [0, 0, 0])
        self.hi = array("h", [0, 0, 0])
        self._new_window()

    def _new_window(self):
        self.k = 0
        self.sx = self.sy = self.sz = 0
        lo, hi = self.lo, self.hi
        for i in range(3):
            lo[i] = 32767
            hi[i] = -32768

    def _span(self, i, v):
        if v < self.lo[i]:
            self.lo[i] = v
        if v > self.hi[i]:
            self.hi[i] = v

    def feed(self, ax, ay, az):
        """One sample (milli-g); returns FIRST, DONE, NOT_FLAT or NONE. Allocates only
        once a second."""
        if self.gradient_x10 >= 0:
            return NONE
        self.sx += ax
        self.sy += ay
        self.sz += az
        self._span(0, ax)
        self._span(1, ay)
        self._span(2, az)
        self.k += 1
        if self.k < self.window:
            return NONE
        lo, hi = self.lo, self.hi
        spread = max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])
        k = self.k
        mean = (self.sx // k, self.sy // k, self.sz // k)
        self._new_window()
        if self.first is not None and not self.moved:
            self.moved = spread >= MOVED_MG
            return NONE
        if spread > STILL_MG:
            return NONE
        flat = is_flat(mean[0], mean[1], mean[2])
        if flat and self.first is not None and (mean[2] < 0) != (self.first[2] < 0):
            flat = False                    # turned over, not round: no second reading
        if not flat:
            self.last = mean
            if self.flat_warned:
                return NONE
            self.flat_warned = True
            return NOT_FLAT
        self.flat_warned = False
        if self.first is None:
            self.first = mean
            return FIRST
        self.second = mean
        self.gradient_x10 = gradient_x10(self.first, mean)
        return DONE
