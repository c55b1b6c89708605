"""InvenSense/TDK MPU6886 6-axis IMU over I2C (M5Stack sticks): +-16 g, 1 KB FIFO.

Registers: WHO_AM_I 0x75 reads 0x19; SMPLRT_DIV 0x19 (rate = 1 kHz / (1 + div) with
the low-pass filters on); CONFIG 0x1A (gyro DLPF, FIFO_MODE); ACCEL_CONFIG 0x1C (full
scale in bits 4:3); ACCEL_CONFIG2 0x1D (accel DLPF); FIFO_EN 0x23; USER_CTRL 0x6A
(FIFO_EN bit 6, FIFO_RST bit 2); PWR_MGMT_1 0x6B (reset 0x80, sleep 0x40, clock);
PWR_MGMT_2 0x6C; FIFO_COUNTH/L 0x72/0x73 (big-endian byte count); FIFO_R_W 0x74.
With accel and gyro in the FIFO (FIFO_EN 0x18, as M5Stack's own library sets it)
each record is 14 bytes: accel XYZ, temperature, gyro XYZ, big-endian. The gyro
data is read and dropped: the FIFO record layout is only known for that setting.
"""
from drivers.sensor import (I2CAccel, io_error, default_delay_ms,
                            RANGE_G, STUCK_S, const)

CHIP = "mpu6886"
ADDRESSES = (0x68, 0x69)

_SMPLRT_DIV = const(0x19)
_CONFIG = const(0x1A)
_GYRO_CONFIG = const(0x1B)
_ACCEL_CONFIG = const(0x1C)
_ACCEL_CONFIG2 = const(0x1D)
_FIFO_EN = const(0x23)
_USER_CTRL = const(0x6A)
_PWR_MGMT_1 = const(0x6B)
_PWR_MGMT_2 = const(0x6C)
_FIFO_COUNTH = const(0x72)
_FIFO_R_W = const(0x74)
_WHO_AM_I = const(0x75)
_WHO_AM_I_VALUE = const(0x19)
_RECORD = const(14)
_FIFO_BYTES = const(1024)
_BATCH = const(36)                   # records per read: 504 bytes, ~0.7 s at 50 Hz

# rate -> (SMPLRT_DIV, gyro DLPF_CFG, accel A_DLPF_CFG): accel bandwidth about rate/2
RATES = {25: (39, 5, 5), 50: (19, 4, 4), 100: (9, 3, 3)}
# full scale g -> (ACCEL_FS_SEL, LSB per g)
SCALES = {2: (0, 16384), 4: (1, 8192), 8: (2, 4096), 16: (3, 2048)}


class MPU6886(I2CAccel):
    chip = CHIP
    ID_REG = _WHO_AM_I
    ID_VALUES = (_WHO_AM_I_VALUE,)

    def __init__(self, i2c, address=0x68, rate_hz=50, range_g=RANGE_G, stuck_s=STUCK_S,
                 delay_ms=default_delay_ms):
        super().__init__(i2c, address, rate_hz, range_g, RATES, SCALES, _BATCH, _RECORD,
                         rate_hz, stuck_s)
        self.fifo_samples = _FIFO_BYTES // _RECORD
        self._lsb = SCALES[range_g][1]
        self._two = bytearray(2)
        self._probe()
        self._configure(delay_ms)

    def _configure(self, delay_ms):
        div, dlpf, a_dlpf = RATES[self.rate_hz]
        try:
            self._write(_PWR_MGMT_1, 0x80)        # device reset
            delay_ms(10)
            self._write(_PWR_MGMT_1, 0x01)        # awake, best clock source
            delay_ms(10)
            self._write(_PWR_MGMT_2, 0x00)        # all axes on
            self._write(_CONFIG, dlpf)            # FIFO_MODE 0: overwrite oldest when full
            self._write(_SMPLRT_DIV, div)
            self._write(_GYRO_CONFIG, 0x18)       # +-2000 dps, FCHOICE_B 00
            self._write(_ACCEL_CONFIG, SCALES[self.range_g][0] << 3)
            self._write(_ACCEL_CONFIG2, a_dlpf)   # accel DLPF on (FCHOICE_B 0)
            self._write(_FIFO_EN, 0x18)           # gyro + accel records
            self._reset_fifo()
        except OSError as e:
            raise io_error(CHIP, self.address, e, "configuring")

    def _reset_fifo(self):
        self._write(_USER_CTRL, 0x44)             # FIFO on + reset
        self._write(_USER_CTRL, 0x40)

    def read_into(self, samples):
        """Pop whole FIFO records into ``samples`` (milli-g); returns the count."""
        try:
            self.i2c.readfrom_mem_into(self.address, _FIFO_COUNTH, self._two)
            count = ((self._two[0] << 8) | self._two[1]) & 0x1FFF
            if count > _FIFO_BYTES - _RECORD:
                # Full: records may have been overwritten mid-way; start clean.
                self.overruns += 1
                self._reset_fifo()
                return 0
            n = count // _RECORD
            cap = len(samples) // 3
            if n > cap:
                n = cap
            if n > _BATCH:
                n = _BATCH
            if n == 0:
                return 0
            self.i2c.readfrom_mem_into(self.address, _FIFO_R_W, self._views[n])
        except OSError as e:
            raise io_error(CHIP, self.address, e, "reading the FIFO")
        raw = self._raw
        lsb = self._lsb
        stuck = self._stuck
        for i in range(n):
            b = _RECORD * i
            x = (raw[b] << 8) | raw[b + 1]
            y = (raw[b + 2] << 8) | raw[b + 3]
            z = (raw[b + 4] << 8) | raw[b + 5]
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
