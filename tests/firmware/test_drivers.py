"""Accelerometer drivers against emulated chips: probe, configuration, FIFO reads, failures."""
import array
import errno

from expect import raises
from fake_i2c import FakeBus, FakeLIS3DH, FakeMPU6886, FakeBMI160
from drivers.sensor import SensorError
from drivers.lis3dh import LIS3DH
from drivers.mpu6886 import MPU6886
from drivers.bmi160 import BMI160
import tracefile

try:
    import micropython
    heap_lock = micropython.heap_lock
    heap_unlock = micropython.heap_unlock
except (ImportError, AttributeError):
    def heap_lock():
        pass

    def heap_unlock():
        return 0

RUN = "hip-outdoor-run-25min.csv"   # 100 Hz, hip, with impacts above 4 g
# (driver class, fake chip class, address, milli-g resolution at +-16 g)
CHIPS = (
    (LIS3DH, FakeLIS3DH, 0x18, 12),
    (MPU6886, FakeMPU6886, 0x68, 1),
    (BMI160, FakeBMI160, 0x69, 1),
)


def _nodelay(ms):
    pass


def _open(driver, fake, addr, rate=50, **kw):
    chip = fake(addr)
    bus = FakeBus(chip)
    return driver(bus, addr, rate_hz=rate, delay_ms=_nodelay, **kw), chip, bus


def _drain(drv, samples):
    """Everything the FIFO holds, as a list of (ax, ay, az)."""
    out = []
    while True:
        n = drv.read_into(samples)
        if n == 0:
            return out
        for i in range(n):
            out.append((samples[3 * i], samples[3 * i + 1], samples[3 * i + 2]))


def _push_and_drain(drv, chip, samples, rows, times):
    for _ in range(times):
        chip.push_many(rows)
        _drain(drv, samples)


def test_each_chip_is_set_to_16_g_and_the_asked_rate():
    for driver, fake, addr, _res in CHIPS:
        for rate in (25, 50, 100):
            drv, chip, _ = _open(driver, fake, addr, rate)
            assert chip.rate_hz() == rate, (driver.chip, rate, chip.rate_hz())
            assert chip.range_g() == 16, (driver.chip, chip.range_g())


def test_fifo_samples_come_back_in_milli_g_in_order():
    trace = tracefile.load(RUN, 1000)
    assert max(max(abs(v) for v in row) for row in trace) > 4000   # real impacts in there
    samples = array.array("h", [0] * 3 * 64)
    for driver, fake, addr, res in CHIPS:
        drv, chip, _ = _open(driver, fake, addr)
        got = []
        for k in range(0, len(trace), 20):          # the runner reads every few samples
            chip.push_many(trace[k:k + 20])
            got.extend(_drain(drv, samples))
        assert len(got) == len(trace), (driver.chip, len(got))
        for want, have in zip(trace, got):
            for a, b in zip(want, have):
                assert abs(a - b) <= res, (driver.chip, want, have)


def test_a_downhill_landing_above_8_g_reads_true_and_beyond_16_g_saturates_not_wraps():
    samples = array.array("h", [0] * 3 * 64)
    for driver, fake, addr, res in CHIPS:
        drv, chip, _ = _open(driver, fake, addr)
        chip.push(12000, -12000, 1000)
        (x, y, z), = _drain(drv, samples)
        assert abs(x - 12000) <= res and abs(y + 12000) <= res, (driver.chip, x, y)
        chip.push(30000, -30000, 1000)
        (x, y, z), = _drain(drv, samples)
        assert x >= 15900 and y <= -15900, (driver.chip, x, y)


def test_a_full_fifo_is_reported_and_reading_goes_on():
    samples = array.array("h", [0] * 3 * 64)
    for driver, fake, addr, res in CHIPS:
        drv, chip, _ = _open(driver, fake, addr)
        for k in range(300):                        # several seconds unread
            chip.push(k % 7, 0, 1000)
        _drain(drv, samples)
        assert drv.overruns >= 1, driver.chip
        chip.push(100, 200, 1000)
        got = _drain(drv, samples)
        assert got and abs(got[-1][0] - 100) <= res and abs(got[-1][1] - 200) <= res, (driver.chip, got)


def test_reading_allocates_nothing():
    samples = array.array("h", [0] * 3 * 64)
    for driver, fake, addr, res in CHIPS:
        drv, chip, _ = _open(driver, fake, addr)
        chip.push_many([(i, -i, 1000 + i) for i in range(25)])
        heap_lock()
        try:
            n = drv.read_into(samples)
            m = drv.read_into(samples)
        finally:
            heap_unlock()
        assert n == 25 and m == 0, (driver.chip, n, m)
        assert abs(samples[3 * 24] - 24) <= res and abs(samples[3 * 24 + 2] - 1024) <= res


def test_no_ack_names_chip_and_address():
    for driver, fake, addr, res in CHIPS:
        bus = FakeBus()                             # nothing on the bus
        e = raises(SensorError, driver, bus, addr, delay_ms=_nodelay)
        msg = str(e)
        assert driver.chip in msg and ("0x%02x" % addr) in msg and "no answer" in msg, msg
        assert str(errno.ENODEV) in msg or "ENODEV" in msg, msg


def test_wrong_chip_names_what_was_read():
    for driver, fake, addr, res in CHIPS:
        chip = fake(addr)
        chip.regs[0x0F if driver is LIS3DH else (0x75 if driver is MPU6886 else 0x00)] = 0x42
        e = raises(SensorError, driver, FakeBus(chip), addr, delay_ms=_nodelay)
        assert "0x42" in str(e) and driver.chip in str(e), str(e)


def test_a_chip_that_lets_go_mid_session_raises_sensor_error():
    samples = array.array("h", [0] * 3 * 64)
    for driver, fake, addr, res in CHIPS:
        drv, chip, bus = _open(driver, fake, addr)
        chip.push(0, 0, 1000)
        assert drv.read_into(samples) == 1
        bus.fail_from(addr)
        chip.push(0, 0, 1000)
        e = raises(SensorError, drv.read_into, samples)
        assert "I/O error" in str(e) and driver.chip in str(e), str(e)


def test_stuck_values_raise_but_a_still_noisy_sensor_does_not():
    samples = array.array("h", [0] * 3 * 64)
    for driver, fake, addr, res in CHIPS:
        drv, chip, _ = _open(driver, fake, addr, rate=25, stuck_s=2)
        for k in range(25 * 10):                    # 10 s lying still, 1-digit noise
            chip.push((k * 7 % 3 - 1) * res, 0, 1000)
            if k % 10 == 9:
                _drain(drv, samples)
        e = raises(SensorError, _push_and_drain, drv, chip, samples, [(-16, 32, 1000)] * 10, 60)
        assert "stuck" in str(e) and driver.chip in str(e), str(e)


def test_lis3dh_needs_auto_increment_to_read_the_fifo():
    # The fake only pops the FIFO through the auto-increment address, like the chip:
    # the driver getting three axes right proves it sets bit 7 of the address.
    samples = array.array("h", [0] * 3 * 64)
    drv, chip, _ = _open(LIS3DH, FakeLIS3DH, 0x19)
    chip.push(500, -250, 1000)
    assert _drain(drv, samples) == [(492, -252, 996)]     # 12 mg digits at +-16 g
