"""What every accelerometer driver shares: its error, stuck-value check, sample layout.

A driver is built with an I2C bus (``machine.I2C``-like: ``readfrom_mem_into``,
``readfrom_mem``, ``writeto_mem``) and an address; it probes the chip (``SensorError``
when nothing answers or the wrong chip does) and configures range and rate.
``read_into(samples)`` then moves what the chip's FIFO holds into ``samples``, an
``array('h')`` of milli-g laid out ``ax, ay, az, ax, ay, az, ...`` (oldest first), and
returns how many samples it wrote. It allocates nothing: every buffer, and every
buffer view it hands to the bus, is made in the constructor.
"""
TYPE_CHECKING = False
if TYPE_CHECKING:                       # make typecheck: see drivers/bus.pyi
    from drivers.bus import I2C

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

RANGE_G = const(16)         # a downhill landing exceeds 8 g: every chip here has +-16 g (docs/boards.md)
STUCK_S = const(5)          # identical raw readings this long = the chip stopped


class SensorError(Exception):
    """The accelerometer is missing or failing; the message names chip, address, why."""

    def __init__(self, chip, address, why, transient=False):
        super().__init__("%s at 0x%02x: %s" % (chip, address, why))
        self.chip = chip
        self.address = address
        self.why = why
        self.transient = transient      # a bus error that a retry may clear


def io_error(chip, address, e, doing):
    return SensorError(chip, address, "I/O error while %s (%s)" % (doing, e), doing == "reading the FIFO")


def default_delay_ms(ms):
    try:
        from time import sleep_ms
        sleep_ms(ms)
    except ImportError:
        from time import sleep
        sleep(ms / 1000)


class StuckCheck:
    """Raises SensorError when the raw reading repeats bit for bit for ``limit`` samples.

    A live chip's noise flips the low bits of at least one axis within a fraction of
    a second even lying on a table; a frozen data register or a dead bus
    reading 0x00/0xFF does not.
    """

    def __init__(self, chip, address, limit):
        self.chip = chip
        self.address = address
        self.limit = limit
        self.x = self.y = self.z = -99999
        self.same = 0

    def feed(self, x, y, z):
        # type: (int, int, int) -> None
        if x == self.x and y == self.y and z == self.z:
            self.same += 1
            if self.same >= self.limit:
                raise SensorError(self.chip, self.address,
                                  "values stuck at raw (%d, %d, %d) for %d samples"
                                  % (x, y, z, self.same + 1))
        else:
            self.x = x
            self.y = y
            self.z = z
            self.same = 0


def views(buf, step, count):
    """Preallocated memoryviews of ``buf``: views[n] covers n records of ``step`` bytes."""
    mv = memoryview(buf)
    return [mv[0:n * step] for n in range(count + 1)]


class I2CAccel:
    """What the chip drivers share: argument checks, the bus buffers, the ID probe and
    single-register access. A driver sets ``chip``, ``ID_REG``, ``ID_NAME`` and
    ``ID_VALUES``, calls this constructor, then probes and configures its chip."""
    chip = ""
    ID_REG = 0
    ID_NAME = "WHO_AM_I"
    ID_VALUES = ()

    def __init__(self, i2c, address, rate_hz, range_g, rates, scales, batch, record, stuck_hz, stuck_s):
        # type: (I2C, int, int, int, dict, dict, int, int, int, int) -> None
        if rate_hz not in rates:
            raise ValueError("%s: rate %s Hz not one of %s" % (self.chip, rate_hz, sorted(rates)))
        if range_g not in scales:
            raise ValueError("%s: range %s g not one of %s" % (self.chip, range_g, sorted(scales)))
        self.i2c = i2c
        self.address = address
        self.rate_hz = rate_hz
        self.range_g = range_g
        self.max_batch = batch
        self.overruns = 0
        self._one = bytearray(1)
        self._raw = bytearray(record * batch)
        self._views = views(self._raw, record, batch)
        self._stuck = StuckCheck(self.chip, address, stuck_hz * stuck_s)

    def _probe(self):
        """Read the ID register; SensorError unless one of ID_VALUES answers. Returns it."""
        try:
            self.i2c.readfrom_mem_into(self.address, self.ID_REG, self._one)
        except OSError as e:
            raise SensorError(self.chip, self.address, "no answer on the I2C bus (%s)" % e)
        got = self._one[0]
        if got not in self.ID_VALUES:
            raise SensorError(self.chip, self.address, "%s reads 0x%02x, expected %s" % (
                self.ID_NAME, got, " or ".join(["0x%02x" % v for v in self.ID_VALUES])))
        return got

    def _write(self, reg, value):
        self._one[0] = value
        self.i2c.writeto_mem(self.address, reg, self._one)

    def _read(self, reg):
        self.i2c.readfrom_mem_into(self.address, reg, self._one)
        return self._one[0]
