"""The CLUE's LSM6DS driver against an emulated chip: probe, rate, FIFO, realignment, failures."""
import array

from expect import raises
from fake_i2c import FakeBus
from fake_lsm6ds import FakeLSM6DS
from drivers.sensor import SensorError
from drivers.lsm6ds import LSM6DS
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

RUN = "hip-outdoor-run-25min.csv"
RES = 1                     # milli-g per digit at +-16 g is 0.488: a reading is within 1 mg


def _nodelay(ms):
    pass


def _open(rate=50, who=0x6A, **kw):
    chip = FakeLSM6DS(0x6A, who)
    bus = FakeBus(chip)
    return LSM6DS(bus, 0x6A, rate_hz=rate, delay_ms=_nodelay, **kw), chip, bus


def _drain(drv, samples):
    out = []
    while True:
        n = drv.read_into(samples)
        if n == 0:
            return out
        for i in range(n):
            out.append((samples[3 * i], samples[3 * i + 1], samples[3 * i + 2]))


def test_both_clue_revisions_are_set_to_16_g_and_the_nearest_rate():
    for who in (0x69, 0x6A):
        for rate, chip_hz in ((25, 26), (50, 52), (100, 104)):
            drv, chip, _ = _open(rate, who)
            assert chip.rate_hz() == chip_hz and chip.range_g() == 16, (who, rate, chip.rate_hz())
            assert drv.who_am_i == who


def test_samples_come_back_in_milli_g_at_the_board_rate():
    trace = tracefile.load(RUN, 1040)
    samples = array.array("h", [0] * 3 * 64)
    drv, chip, _ = _open()
    got = []
    for k in range(0, len(trace), 20):
        chip.push_many(trace[k:k + 20])
        got.extend(_drain(drv, samples))
    assert len(got) == 1000, len(got)                   # 52 Hz in, 50 Hz out: 25 of 26 kept
    # every kept sample is one of the chip's, in order, within a digit
    j = 0
    for have in got:
        while max(abs(a - b) for a, b in zip(trace[j], have)) > RES:
            j += 1
        j += 1
    assert j <= len(trace)


def test_a_read_that_starts_mid_sample_realigns_on_x():
    samples = array.array("h", [0] * 3 * 64)
    drv, chip, bus = _open()
    for k in range(4):
        chip.push(100 + k, -200, 1000)
    bus.readfrom_mem_into(0x6A, 0x3E, bytearray(2))       # someone popped one word
    got = _drain(drv, samples)
    assert len(got) == 2 and all(abs(y + 200) <= RES and abs(z - 1000) <= RES for _x, y, z in got), got
    assert abs(got[-1][0] - 103) <= RES, got


def test_an_overrun_is_counted_and_reading_goes_on():
    samples = array.array("h", [0] * 3 * 64)
    drv, chip, _ = _open()
    for k in range(600):
        chip.push(k % 7, 0, 1000)
    _drain(drv, samples)
    assert drv.overruns >= 1
    for _ in range(30):
        chip.push(300, 400, 1000)
    got = _drain(drv, samples)
    assert got and abs(got[-1][0] - 300) <= RES and abs(got[-1][1] - 400) <= RES, got


def test_reading_allocates_nothing():
    samples = array.array("h", [0] * 3 * 64)
    drv, chip, _ = _open()
    chip.push_many([(i, -i, 1000 + i) for i in range(26)])
    heap_lock()
    try:
        n = drv.read_into(samples)
        m = drv.read_into(samples)
    finally:
        heap_unlock()
    assert n == 25 and m == 0, (n, m)


def test_missing_or_wrong_chip_is_named():
    e = raises(SensorError, LSM6DS, FakeBus(), 0x6A, delay_ms=_nodelay)
    assert "lsm6ds" in str(e) and "0x6a" in str(e) and "no answer" in str(e), str(e)
    e = raises(SensorError, LSM6DS, FakeBus(FakeLSM6DS(0x6A, 0x6C)), 0x6A, delay_ms=_nodelay)
    assert "0x6c" in str(e), str(e)


def test_a_chip_that_lets_go_raises_sensor_error():
    samples = array.array("h", [0] * 3 * 64)
    drv, chip, bus = _open()
    bus.fail_from(0x6A)
    chip.push(0, 0, 1000)
    e = raises(SensorError, drv.read_into, samples)
    assert "I/O error" in str(e), str(e)
