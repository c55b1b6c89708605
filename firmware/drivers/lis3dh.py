"""ST LIS3DH accelerometer over I2C: high-resolution mode, +-16 g, 32-sample FIFO in stream mode.

Registers (datasheet DocID17530): WHO_AM_I 0x0F reads 0x33; CTRL_REG1 0x20 (ODR, axis
enables); CTRL_REG4 0x23 (BDU, full scale, HR); CTRL_REG5 0x24 (BOOT, FIFO_EN);
FIFO_CTRL_REG 0x2E (mode); FIFO_SRC_REG 0x2F (OVRN, EMPTY, FSS unread count);
OUT_X_L 0x28..OUT_Z_H 0x2D, little-endian, left-justified 12-bit in HR mode. Setting
bit 7 of the register address auto-increments it; in FIFO mode the address wraps from
0x2D back to 0x28, so one burst of 6*n bytes pops n samples.
"""
from drivers.sensor import (I2CAccel, io_error, default_delay_ms,
                            RANGE_G, STUCK_S, const)

CHIP = "lis3dh"
ADDRESSES = (0x18, 0x19)            # SA0/SDO low, high

_WHO_AM_I = const(0x0F)
_WHO_AM_I_VALUE = const(0x33)
_CTRL_REG1 = const(0x20)
_CTRL_REG4 = const(0x23)
_CTRL_REG5 = const(0x24)
_FIFO_CTRL = const(0x2E)
_FIFO_SRC = const(0x2F)
_OUT_X_L_AUTO = const(0xA8)         # 0x28 | auto-increment
_FIFO_SIZE = const(32)

ODR_CODES = {1: 1, 10: 2, 25: 3, 50: 4, 100: 5, 200: 6, 400: 7}
# full scale g -> (FS bits, milli-g per 12-bit digit in HR mode)
SCALES = {2: (0, 1), 4: (1, 2), 8: (2, 4), 16: (3, 12)}


class LIS3DH(I2CAccel):
    chip = CHIP
    ID_REG = _WHO_AM_I
    ID_VALUES = (_WHO_AM_I_VALUE,)

    def __init__(self, i2c, address=0x18, rate_hz=50, range_g=RANGE_G, stuck_s=STUCK_S,
                 delay_ms=default_delay_ms):
        super().__init__(i2c, address, rate_hz, range_g, ODR_CODES, SCALES, _FIFO_SIZE, 6,
                         rate_hz, stuck_s)
        self._mg = SCALES[range_g][1]
        self._probe()
        self._configure(delay_ms)

    def _configure(self, delay_ms):
        try:
            self._write(_CTRL_REG5, 0x80)                 # reboot memory content
            delay_ms(5)
            self._write(_CTRL_REG1, (ODR_CODES[self.rate_hz] << 4) | 0x07)   # X, Y, Z on
            self._write(_CTRL_REG4, 0x80 | (SCALES[self.range_g][0] << 4) | 0x08)  # BDU, FS, HR
            self._write(_CTRL_REG5, 0x40)                 # FIFO enable
            self._write(_FIFO_CTRL, 0x00)                 # bypass: empties the FIFO
            self._write(_FIFO_CTRL, 0x80)                 # stream: keep the newest 32
        except OSError as e:
            raise io_error(CHIP, self.address, e, "configuring")

    def read_into(self, samples):
        """Pop every sample the FIFO holds into ``samples`` (milli-g); returns the count."""
        try:
            self.i2c.readfrom_mem_into(self.address, _FIFO_SRC, self._one)
            src = self._one[0]
            if src & 0x40:                                # overrun: FIFO is full
                self.overruns += 1
                n = _FIFO_SIZE
            elif src & 0x20:
                return 0
            else:
                n = src & 0x1F
            cap = len(samples) // 3
            if n > cap:
                n = cap
            if n == 0:
                return 0
            self.i2c.readfrom_mem_into(self.address, _OUT_X_L_AUTO, self._views[n])
        except OSError as e:
            raise io_error(CHIP, self.address, e, "reading the FIFO")
        raw = self._raw
        mg = self._mg
        stuck = self._stuck
        for i in range(n):
            b = 6 * i
            x = raw[b] | (raw[b + 1] << 8)
            y = raw[b + 2] | (raw[b + 3] << 8)
            z = raw[b + 4] | (raw[b + 5] << 8)
            stuck.feed(x, y, z)
            if x & 0x8000:
                x -= 0x10000
            if y & 0x8000:
                y -= 0x10000
            if z & 0x8000:
                z -= 0x10000
            k = 3 * i
            samples[k] = (x >> 4) * mg
            samples[k + 1] = (y >> 4) * mg
            samples[k + 2] = (z >> 4) * mg
        return n
