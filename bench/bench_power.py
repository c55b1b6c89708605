"""Battery: how often the runner wakes in each kind of step, and what that costs per board.

The default session (descending sprints) runs through the real app, motion pipeline,
runner and driver of each board, on the emulated chips of tests/firmware (their
FIFOs fill at the board's rate) in virtual time: the runner's own loop (``wake`` ->
sleep until the time it returns), a press ending the sleep at once on the
MicroPython boards (pin IRQ) and polled on the CircuitPython ones (``keypad``). The
accelerometer replays the composed demo session (real recordings,
host_tools/compose.py, seed 1) and its taps; without ../shared/traces it lies still
and the sprints end by their taps.

The current estimate adds, per board: the MCU awake for each wake-up and each
sample (assumed times, below), asleep otherwise; the accelerometer in the mode its
driver sets; Bluetooth advertising at the firmware's interval. Every figure and its
source is in docs/boards.md ("Battery"); the board's own extras (LEDs, regulators,
the M5StickC's backlight) are not included, so real boards draw more.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "firmware"))
from host_tools import firmware  # noqa: E402,F401  (firmware/ on sys.path)

import json  # noqa: E402

from app import App, load_plan  # noqa: E402
from fake_i2c import FakeLIS3DH, FakeMPU6886, FakeBMI160  # noqa: E402
from fake_lsm6ds import FakeLSM6DS  # noqa: E402
from fake_machine import FakeMachine, FakeTime  # noqa: E402
from swcore import boardspec  # noqa: E402
from swcore.motion import MotionPipeline  # noqa: E402
from swrt import mp  # noqa: E402
from swrt.runner import Runner  # noqa: E402

RATE = 50
T_WAKE_MS = 1.0       # assumed: one wake-up of the loop on a board (MicroPython, ~100+ MHz)
T_SAMPLE_MS = 0.25    # assumed: driver decode + motion pipeline per sample on a board
HOLD_MS = 120         # each scripted tap

# Per board: (runtime label, chip fake, the MicroPython board whose parts stand in,
# MCU mA awake, MCU mA between wake-ups, accel mA, BLE advertising mA, battery mAh, note).
# Sources: docs/boards.md "Battery".
BOARDS = {
    "pico-w-lis3dh": ("micropython", lambda: FakeLIS3DH(0x18), None,
                      20.0, 10.0, 0.011, 1.0, 500, "RP2040 idles in WFE; no light sleep (a pin cannot end it)"),
    "esp32-s3-devkitc-bmi160": ("micropython", lambda: FakeBMI160(0x68), None,
                                35.0, 35.0, 0.18, 0.7, 500, "ESP32 modem-sleep current awake and idle"),
    "m5stickc-plus2": ("micropython", lambda: FakeMPU6886(0x68), None,
                       35.0, 35.0, 3.8, 0.7, 200, "built-in 200 mAh; LCD backlight not counted"),
    "circuitplayground-bluefruit": ("circuitpython", lambda: FakeLIS3DH(0x19), "lis3dh",
                                    3.3, 0.5, 0.011, 0.06, 500, "nRF52840; CircuitPython idle assumed 0.5 mA"),
    "clue": ("circuitpython", lambda: FakeLSM6DS(0x6A), "lsm6ds",
             3.3, 0.5, 0.25, 0.06, 500, "nRF52840; screen off (not used yet)"),
}

CATEGORIES = ("timed", "open", "sprint: armed", "sprint: running", "recovery")


def _board(name):
    return boardspec.parse((ROOT / "boards" / (name + ".json")).read_text())


def _session_input():
    """(samples, taps_ms): the composed demo, or lying still with the demo's taps."""
    try:
        from host_tools import compose
        if compose.TRACES_DIR.is_dir():
            samples, labels = compose.compose(1, RATE, 6, True)
            return samples, [int(t * 1000) for t in labels["taps_s"]], "composed demo session (seed 1)"
    except Exception as e:          # a recording missing: say so, run still
        print("note: composed session unavailable (%s)" % e)
    from host_tools.sim import DEMO_TAPS
    taps = [int(float(t) * 1000) for t in DEMO_TAPS.split(",")]
    return None, taps, "lying still, demo taps (no ../shared/traces)"


def _build(board_id, chip):
    spec = _board(board_id)
    time = FakeTime(0)
    if spec["runtime"] == "circuitpython":
        # The CircuitPython layer's parts differ only in the button (polled keypad) and
        # the bus adapter; the runner and the driver are the same modules.
        stand_in = _board("pico-w-lis3dh")
        stand_in["battery"] = None
        m = FakeMachine(time, devices=[chip])
        parts = mp.build(stand_in, m, time, sensor=False)
        parts.rate_hz = spec["accel"]["rate_hz"]
        from drivers.lis3dh import LIS3DH
        from drivers.lsm6ds import LSM6DS
        driver = LIS3DH if spec["accel"]["chip"] == "lis3dh" else LSM6DS
        parts.sensor = driver(m.bus, spec["accel"]["address"], rate_hz=parts.rate_hz,
                              delay_ms=lambda ms: None)
        parts.button.wakes = False
        parts.sensor_error = None
    else:
        button = spec["button"]
        # a button without an internal pull (M5StickC: an external pull-up) rests released
        m = FakeMachine(time, devices=[chip], levels={button["pin"]: 1 - button["active"]})
        if spec["port"] == "esp32":           # the port's light sleep and EXT0 wake-up
            import types
            esp32 = types.ModuleType("esp32")
            esp32.wake_on_ext0 = lambda pin, level: None
            sys.modules["esp32"] = esp32
            m.lightsleep = lambda ms: None
        parts = mp.build(spec, m, time)
        sys.modules.pop("esp32", None)
    return spec, time, m, parts


def _category(engine):
    step = engine.step
    if step is None:
        return None
    kind = step["kind"]
    if kind == "sprint":
        return "sprint: running" if engine.phase == "running" else "sprint: armed"
    return kind


def run_board(board_id, samples, taps):
    _rt, make_chip, _drv, *_ = BOARDS[board_id]
    chip = make_chip()
    spec, time, m, parts = _build(board_id, chip)
    name, steps, _text, err = load_plan(lambda: None)          # the built-in default session
    app = App(parts, name, steps, [], motion=MotionPipeline(parts.rate_hz))
    runner = Runner(app, parts, err)
    if spec["runtime"] == "circuitpython":
        runner.button_wakes = False
    pin = parts.button.pin
    edges = []
    for t in taps:
        edges += [(t, 0), (t + HOLD_MS, 1)]
    period = runner.period_ms
    wakes = dict((c, 0) for c in CATEGORIES)
    spent = dict((c, 0) for c in CATEGORIES)
    runner.start(0)
    now = 0
    pushed = 0
    k = 0
    while not runner.finished and now < 4 * 3600 * 1000:
        while pushed + period <= now:
            pushed += period
            if samples is not None and k < len(samples):
                ax, ay, az = samples[k]
            else:
                ax, ay, az = (k * 7) % 23, 0, 1000          # lying still (live noise)
            k += 1
            chip.push(ax, ay, az)
        while edges and edges[0][0] <= now:
            pin.drive(edges.pop(0)[1])
        cat = _category(app.engine)
        if cat is not None:
            wakes[cat] += 1
        nxt = runner.wake(now)
        if runner.button_wakes and edges and edges[0][0] < nxt:
            nxt = edges[0][0]                               # the IRQ wakes the loop
        step = max(1, nxt - now)
        if cat is not None:
            spent[cat] += step
        time.advance(step)
        now = runner.clock.now()
    n_samples = k
    return wakes, spent, now, n_samples, runner


ESP32_LIGHT_SLEEP_MA = 0.8   # ESP32 datasheet, light-sleep


def estimate_ma(board_id, wakes, spent, total_ms, n_samples, light_sleep=False):
    """Average mA over the session. ``light_sleep``: no sync key, so no Bluetooth beside
    the session and the runner light-sleeps between wake-ups (ESP32 boards)."""
    _rt, _chip, _drv, awake_ma, idle_ma, accel_ma, ble_ma, _mah, _note = BOARDS[board_id]
    n_wakes = sum(wakes.values())
    duty = min(1.0, (n_wakes * T_WAKE_MS + n_samples * T_SAMPLE_MS) / total_ms)
    if light_sleep:
        idle_ma, ble_ma = ESP32_LIGHT_SLEEP_MA, 0.0
    return awake_ma * duty + idle_ma * (1 - duty) + accel_ma + ble_ma


def main():
    samples, taps, what = _session_input()
    print("default session, %s, %d Hz; wake-ups per second of each kind of step" % (what, RATE))
    print("target: <= 12/s in a running sprint, <= 2/s in timed steps")
    head = "%-28s" % "board" + "".join("%16s" % c for c in CATEGORIES) + "%9s" % "overall"
    print(head)
    results = {}
    for board_id in BOARDS:
        wakes, spent, total, n_samples, runner = run_board(board_id, samples, taps)
        row = "%-28s" % board_id
        for c in CATEGORIES:
            row += "%16s" % ("%.2f" % (wakes[c] * 1000 / spent[c]) if spent[c] else "-")
        row += "%9.2f" % (sum(wakes.values()) * 1000 / total)
        print(row)
        results[board_id] = (wakes, spent, total, n_samples, runner)
    print()
    print("estimated current (datasheet figures + stated assumptions; board extras not included)")
    print("%-28s %8s %10s %12s %9s  %s" % ("board", "mA", "session", "battery", "sessions", "note"))
    for board_id, (wakes, spent, total, n_samples, runner) in results.items():
        variants = [(board_id, False, BOARDS[board_id][8])]
        if runner.light_sleep is not None:
            variants.append(("  (no sync key)", True, "light sleep between wake-ups, no advertising"))
        for label, light, note in variants:
            ma = estimate_ma(board_id, wakes, spent, total, n_samples, light)
            mah_session = ma * total / 3600000
            battery = BOARDS[board_id][7]
            print("%-28s %8.2f %7.0f min %8d mAh %9.0f  %s" % (
                label, ma, total / 60000, battery, battery * 0.8 / mah_session, note))
    print("(sessions per charge use 80 % of the battery; the 10 ms loop this replaced woke ~105/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
