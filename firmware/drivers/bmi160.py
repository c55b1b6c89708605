"""Bosch BMI160 6-axis IMU over I2C, accelerometer only: +-16 g, 1 KB FIFO, headerless.

Registers: CHIP_ID 0x00 reads 0xD1; ERR_REG 0x02; PMU_STATUS 0x03 (acc mode bits 5:4,
01 = normal); FIFO_LENGTH_0/1 0x22/0x23 (byte count, 11 bits, little-endian);
FIFO_DATA 0x24; ACC_CONF 0x40 (bandwidth 6:4, ODR 3:0 with 100/2^(8-ODR) Hz);
ACC_RANGE 0x41 (0x03/0x05/0x08/0x0C = 2/4/8/16 g); FIFO_CONFIG_1 0x47 (bit 6 accel
in FIFO, bit 4 headers); CMD 0x7E (0xB6 soft reset, 0x11 accel normal mode, 0xB0
FIFO flush). Headerless accel-only frames are 6 bytes: X, Y, Z little-endian.
"""
from drivers.sensor import (I2CAccel, SensorError, io_error, default_delay_ms,
                            RANGE_G, STUCK_S, const)

CHIP = "bmi160"
ADDRESSES = (0x68, 0x69)            # SDO low, high

_CHIP_ID = const(0x00)
_CHIP_ID_VALUE = const(0xD1)
_ERR_REG = const(0x02)
_PMU_STATUS = const(0x03)
_FIFO_LENGTH_0 = const(0x22)
_FIFO_DATA = const(0x24)
_ACC_CONF = const(0x40)
_ACC_RANGE = const(0x41)
_FIFO_CONFIG_1 = const(0x47)
_CMD = const(0x7E)
_FIFO_BYTES = const(1024)
_BATCH = const(64)

ODR_CODES = {25: 6, 50: 7, 100: 8}
# full scale g -> (ACC_RANGE code, LSB per g)
SCALES = {2: (0x03, 16384), 4: (0x05, 8192), 8: (0x08, 4096), 16: (0x0C, 2048)}


class BMI160(I2CAccel):
    chip = CHIP
    ID_REG = _CHIP_ID
    ID_NAME = "CHIP_ID"
    ID_VALUES = (_CHIP_ID_VALUE,)

    def __init__(self, i2c, address=0x68, rate_hz=50, range_g=RANGE_G, stuck_s=STUCK_S,
                 delay_ms=default_delay_ms):
        super().__init__(i2c, address, rate_hz, range_g, ODR_CODES, SCALES, _BATCH, 6,
                         rate_hz, stuck_s)
        self._lsb = SCALES[range_g][1]
        self._two = bytearray(2)
        self._probe()
        self._configure(delay_ms)

    def _configure(self, delay_ms):
        try:
            self._write(_CMD, 0xB6)                   # soft reset
            delay_ms(15)
            self._write(_CMD, 0x11)                   # accelerometer to normal mode
            delay_ms(5)
            self._write(_ACC_CONF, 0x20 | ODR_CODES[self.rate_hz])   # normal filter, ODR
            self._write(_ACC_RANGE, SCALES[self.range_g][0])
            self._write(_FIFO_CONFIG_1, 0x40)         # accel frames, no headers
            self._write(_CMD, 0xB0)                   # flush
            pmu = (self._read(_PMU_STATUS) >> 4) & 0x03
            err = self._read(_ERR_REG)
        except OSError as e:
            raise io_error(CHIP, self.address, e, "configuring")
        if pmu != 1:
            raise SensorError(CHIP, self.address,
                              "accelerometer did not enter normal mode (PMU_STATUS %d)" % pmu)
        if err & 0x1E:
            raise SensorError(CHIP, self.address, "configuration rejected (ERR_REG 0x%02x)" % err)

    def read_into(self, samples):
        """Pop whole FIFO frames into ``samples`` (milli-g); returns the count."""
        try:
            self.i2c.readfrom_mem_into(self.address, _FIFO_LENGTH_0, self._two)
            count = (self._two[0] | (self._two[1] << 8)) & 0x7FF
            if count > _FIFO_BYTES - 6:
                self.overruns += 1
                self._write(_CMD, 0xB0)
                return 0
            n = count // 6
            cap = len(samples) // 3
            if n > cap:
                n = cap
            if n > _BATCH:
                n = _BATCH
            if n == 0:
                return 0
            self.i2c.readfrom_mem_into(self.address, _FIFO_DATA, self._views[n])
        except OSError as e:
            raise io_error(CHIP, self.address, e, "reading the FIFO")
        raw = self._raw
        lsb = self._lsb
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
            samples[k] = x * 1000 // lsb
            samples[k + 1] = y * 1000 // lsb
            samples[k + 2] = z * 1000 // lsb
        return n
