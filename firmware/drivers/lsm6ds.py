"""ST LSM6DS33 / LSM6DS3TR-C accelerometer (the Adafruit CLUE's) over I2C: +-16 g, FIFO.

Registers (LSM6DS33 DocID027403, LSM6DS3TR-C DocID030071; same map): WHO_AM_I 0x0F
reads 0x69 (LSM6DS33) or 0x6A (LSM6DS3TR-C); CTRL1_XL 0x10 (ODR_XL, FS_XL);
CTRL2_G 0x11 (gyro off); CTRL3_C 0x12 (BDU, IF_INC, SW_RESET); FIFO_CTRL3 0x08
(accelerometer in the FIFO, no decimation); FIFO_CTRL5 0x0A (FIFO ODR, mode);
FIFO_STATUS1..4 0x3A..0x3D (unread 16-bit words, overrun, empty, pattern = which axis
is next); FIFO_DATA_OUT_L/H 0x3E/0x3F, whose address rolls back from 0x3F to 0x3E in
a multi-byte read, so one burst of 6*n bytes pops n (x, y, z) samples.

The chip's rates are 26, 52 and 104 Hz; the driver keeps 25 of every 26 samples so the
app sees the board's 25, 50 or 100 Hz.
"""
from drivers.sensor import (I2CAccel, io_error, default_delay_ms,
                            RANGE_G, STUCK_S, const)

CHIP = "lsm6ds"
ADDRESSES = (0x6A, 0x6B)            # SA0 low, high
WHO_AM_I_VALUES = (0x69, 0x6A)      # LSM6DS33, LSM6DS3TR-C

_WHO_AM_I = const(0x0F)
_FIFO_CTRL3 = const(0x08)
_FIFO_CTRL5 = const(0x0A)
_CTRL1_XL = const(0x10)
_CTRL2_G = const(0x11)
_CTRL3_C = const(0x12)
_FIFO_STATUS1 = const(0x3A)
_FIFO_DATA_OUT_L = const(0x3E)
_BATCH = const(32)                  # samples moved per read_into at most
_FIFO_CONTINUOUS = const(6)

# board rate -> (ODR code for CTRL1_XL and FIFO_CTRL5, the chip's real rate in Hz)
ODR_CODES = {25: (2, 26), 50: (3, 52), 100: (4, 104)}
# full scale g -> (FS_XL bits, micro-g per digit)
SCALES = {2: (0, 61), 4: (2, 122), 8: (3, 244), 16: (1, 488)}


class LSM6DS(I2CAccel):
    chip = CHIP
    ID_REG = _WHO_AM_I
    ID_VALUES = WHO_AM_I_VALUES

    def __init__(self, i2c, address=0x6A, rate_hz=50, range_g=RANGE_G, stuck_s=STUCK_S,
                 delay_ms=default_delay_ms):
        super().__init__(i2c, address, rate_hz, range_g, ODR_CODES, SCALES, _BATCH, 6,
                         ODR_CODES[rate_hz][1] if rate_hz in ODR_CODES else 0, stuck_s)
        self.fifo_samples = 4096 // 6     # accelerometer only: the TR-C's 4 KB (the DS33 has 8)
        self._ug = SCALES[range_g][1]
        self._chip_hz = ODR_CODES[rate_hz][1]
        self._phase = 0                           # decimation accumulator (chip -> board rate)
        self._two = bytearray(2)
        self._status = bytearray(4)
        self.who_am_i = self._probe()
        self._configure(delay_ms)

    def _configure(self, delay_ms):
        odr = ODR_CODES[self.rate_hz][0]
        try:
            self._write(_CTRL3_C, 0x01)                   # software reset
            delay_ms(5)
            self._write(_CTRL3_C, 0x44)                   # BDU, register auto-increment
            self._write(_CTRL1_XL, (odr << 4) | (SCALES[self.range_g][0] << 2))
            self._write(_CTRL2_G, 0x00)                   # gyroscope off
            self._write(_FIFO_CTRL3, 0x01)                # accelerometer only, every sample
            self._write(_FIFO_CTRL5, 0x00)                # bypass: empties the FIFO
            self._write(_FIFO_CTRL5, (odr << 3) | _FIFO_CONTINUOUS)
        except OSError as e:
            raise io_error(CHIP, self.address, e, "configuring")

    def read_into(self, samples):
        """Pop up to ``len(samples) // 3`` samples from the FIFO into ``samples`` (milli-g);
        returns how many were written (decimated to the board rate)."""
        addr = self.address
        try:
            self.i2c.readfrom_mem_into(addr, _FIFO_STATUS1, self._status)
            st = self._status
            if st[1] & 0x40:                              # overrun: oldest data lost
                self.overruns += 1
            if st[1] & 0x10:                              # empty
                return 0
            words = st[0] | ((st[1] & 0x0F) << 8)
            pattern = st[2] | ((st[3] & 0x03) << 8)
            while pattern % 3 and words:                  # realign on an x word
                self.i2c.readfrom_mem_into(addr, _FIFO_DATA_OUT_L, self._two)
                pattern += 1
                words -= 1
            n = words // 3
            cap = len(samples) // 3
            if n > cap:
                n = cap
            if n > _BATCH:
                n = _BATCH
            if n == 0:
                return 0
            self.i2c.readfrom_mem_into(addr, _FIFO_DATA_OUT_L, self._views[n])
        except OSError as e:
            raise io_error(CHIP, addr, e, "reading the FIFO")
        raw = self._raw
        ug = self._ug
        stuck = self._stuck
        out = 0
        for i in range(n):
            b = 6 * i
            x = raw[b] | (raw[b + 1] << 8)
            y = raw[b + 2] | (raw[b + 3] << 8)
            z = raw[b + 4] | (raw[b + 5] << 8)
            stuck.feed(x, y, z)
            self._phase += self.rate_hz
            if self._phase < self._chip_hz:
                continue                                  # the one sample in 26 dropped
            self._phase -= self._chip_hz
            if x & 0x8000:
                x -= 0x10000
            if y & 0x8000:
                y -= 0x10000
            if z & 0x8000:
                z -= 0x10000
            k = 3 * out
            samples[k] = x * ug // 1000
            samples[k + 1] = y * ug // 1000
            samples[k + 2] = z * ug // 1000
            out += 1
        return out
