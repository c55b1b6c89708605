"""The MicroPython runtime layer and runner, on fake machine parts in virtual time."""
import json

from expect import Collector
from fake_i2c import FakeLIS3DH, FakeMPU6886, FakeBMI160
from fake_machine import FakeMachine, FakeTime, RealTicks, PERIOD
from app import App, load_plan
from swcore import boardspec
from swrt import mp
from swrt.runner import Runner, RETRY_MS
import main as device_main

try:
    import micropython
    heap_lock = micropython.heap_lock
    heap_unlock = micropython.heap_unlock
except (ImportError, AttributeError):
    def heap_lock():
        pass

    def heap_unlock():
        return 0

HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
PLAN = {"name": "Short", "sets": [{"name": "S", "steps": [
    {"name": "Warm", "kind": "timed", "duration_s": 2},
    {"name": "Setup", "kind": "open"},
    {"name": "Cool", "kind": "timed", "duration_s": 1},
]}]}


def board(name):
    with open(HERE + "/../../boards/%s.json" % name) as f:
        return boardspec.parse(f.read())


class CountingMotion:
    """Stands in for the motion pipeline: records what the runner feeds it."""

    def __init__(self):
        self.times = []
        self.app = None
        self.mag = 1000
        self.cadence_spm = 0

    def feed(self, ax, ay, az):
        self.times.append(self.app.t_now)
        return False

    def arm(self, cadence_floor_spm=0):
        pass

    def disarm(self):
        pass

    def rep_metrics(self):
        return {}


class TimedApp(App):
    def __init__(self, *args, **kwargs):
        self.t_now = 0          # made here: a new attribute in the hot path would allocate
        App.__init__(self, *args, **kwargs)

    def sample(self, ax, ay, az, t):
        self.t_now = t
        App.sample(self, ax, ay, az, t)


def setup(board_name="pico-w-lis3dh", chip=None, plan=PLAN, start=0):
    time = FakeTime(start)
    spec = board(board_name)
    if chip is None:
        chip = {"lis3dh": FakeLIS3DH, "mpu6886": FakeMPU6886, "bmi160": FakeBMI160}[
            spec["accel"]["chip"]](spec["accel"]["address"])
    m = FakeMachine(time, devices=[chip] if chip else [], adc_uv=spec.get("port", "").startswith("esp32"))
    parts = mp.build(spec, m, time)
    name, steps, _t, err = load_plan(lambda: json.dumps(plan))
    events = Collector()
    motion = CountingMotion()
    app = TimedApp(parts, name, steps, [events], motion=motion)
    motion.app = app
    return time, m, parts, app, events, motion, Runner(app, parts, err)


def run_until(runner, time, chip, end_ms, actions=(), step=10):
    """Advance virtual time, the chip sampling at the board rate, running ``actions``."""
    period = runner.period_ms
    actions = sorted(actions, key=lambda a: a[0])
    t0 = runner.clock.now()
    while True:
        now = runner.clock.now()
        while actions and actions[0][0] <= now:
            actions.pop(0)[1]()
        if chip is not None and now % period == 0 and now > t0:
            chip.push(now % 97, 0, 1000)        # live, slightly noisy samples
        runner.poll(now)
        if now >= end_ms or runner.finished:
            return now
        time.advance(step if period % step == 0 else 1)


def test_clock_counts_through_the_ticks_wrap():
    time = FakeTime(PERIOD - 300)
    clock = mp.Clock(time)
    stamp = time.ticks_ms()
    time.advance(250)
    assert clock.now() == 250
    time.advance(500)                           # ticks_ms wrapped to a small number
    assert time.ticks_ms() < 1000
    assert clock.now() == 750
    assert clock.at(stamp) == 0


def test_board_parts_come_from_the_json():
    time, m, parts, app, events, motion, runner = setup()
    assert parts.sensor is not None and parts.sensor.chip == "lis3dh" and parts.sensor.rate_hz == 50
    assert m.i2c_args == (0, 5, 4, 400000)
    assert 15 in m.pwms and m.pins[14].level == 0            # buzzer PWM, motor off
    assert m.pins[16].pull == m.Pin.PULL_UP and m.pins[16].handler is not None
    assert parts.display is None


def test_cues_sound_the_buzzer_and_run_the_motor():
    time, m, parts, app, events, motion, runner = setup()
    runner.start(0)
    run_until(runner, time, None, 1000)
    tones = m.tones(15)
    assert tones[0] == (0, 0), tones               # silent from power-on
    # step_start cue: 200 ms at 2 kHz, 100 ms gap, 200 ms at 2 kHz; countdown at 1 s
    assert tones[1:6] == [(0, 2000), (200, 0), (300, 2000), (500, 0), (1000, 2000)], tones
    motor = [(t, v) for t, what, pin, v in m.log if what == "pin" and pin == 14]
    assert motor[:2] == [(0, 1), (200, 0)], motor


def test_a_press_reaches_the_engine_from_the_pin_irq():
    time, m, parts, app, events, motion, runner = setup()
    runner.start(0)
    pin = m.pins[16]
    press_at = 3000
    run_until(runner, time, None, 5000, [
        (press_at, lambda: pin.drive(0)), (press_at + 1, lambda: pin.drive(1)),
        (press_at + 3, lambda: pin.drive(0)),     # contact bounce
        (press_at + 120, lambda: pin.drive(1)),
    ])
    ends = events.times("step_end", step="Setup")
    assert ends == [press_at], (ends, events.of("step_end"))


def test_the_button_irq_allocates_nothing():
    time, m, parts, app, events, motion, runner = setup()
    pin = m.pins[16]
    heap_lock()
    try:
        for k in range(40):                       # more edges than the ring holds
            time.advance(1)
            pin.drive(k % 2)
    finally:
        heap_unlock()
    got = []
    parts.button.drain(parts.clock, lambda pressed, t: got.append((pressed, t)))
    assert len(got) == 31 and parts.button.overwritten == 9
    assert got[-1][0] is (pin.level == 0)         # the latest level survives


def test_a_lost_release_irq_does_not_leave_the_button_held():
    time, m, parts, app, events, motion, runner = setup()
    runner.start(0)
    pin = m.pins[16]
    run_until(runner, time, None, 5000, [
        (3000, lambda: pin.drive(0)), (3100, lambda: pin.drive(1, irq=False)),
    ])
    assert events.times("step_end", step="Setup") == [3000]   # a tap, not a long press
    assert not events.of("pause")


def test_samples_reach_the_app_one_by_one_with_their_own_times():
    time, m, parts, app, events, motion, runner = setup()
    runner.start(0)
    assert runner.fifo_ms == 560                  # the LIS3DH's 32-sample FIFO 7/8 full at 50 Hz
    # this loop is awake every 10 ms, so each read comes a quarter interval early:
    # at 420, 840 and 1260 ms
    run_until(runner, time, parts.sensor and m.bus.devices[0x18], 1300)
    t = motion.times
    assert len(t) >= 60, len(t)
    assert all(b - a == 20 for a, b in zip(t, t[1:])), t
    assert t[-1] <= 1300 and not runner.button_only


def test_sensor_failing_mid_session_falls_back_to_button_only_and_the_session_goes_on():
    time, m, parts, app, events, motion, runner = setup()
    chip = m.bus.devices[0x18]
    pin = m.pins[16]
    runner.start(0)
    end = run_until(runner, time, chip, 20000, [
        (1000, lambda: m.bus.fail_from(0x18)),
        (4000, lambda: pin.drive(0)), (4100, lambda: pin.drive(1)),
    ])
    faults = events.of("sensor_fault")
    assert len(faults) == 1 and "I/O error" in faults[0][2]["error"] and "lis3dh at 0x18" in faults[0][2]["error"]
    # the first read after the failure, then two retries
    assert 1000 < faults[0][0] <= 1000 + runner.fifo_ms + 2 * RETRY_MS + 10, faults
    assert events.of("button_only") and runner.button_only
    assert "button_only" in [f["pattern"] for t, e, f in events.of("cue")]
    fed = len(motion.times)
    assert 25 <= fed <= 50, fed                   # samples read before the failure, none after
    assert events.times("step_end", step="Setup") == [4000]
    assert events.times("session_end") == [5000] and end < 20000


def test_stuck_sensor_falls_back_at_once():
    time, m, parts, app, events, motion, runner = setup()
    chip = m.bus.devices[0x18]
    runner.start(0)
    end = 0                                       # identical readings from here on
    while end < 8000 and not runner.button_only:
        time.advance(20)
        end = runner.clock.now()
        chip.push(-8, 4, 1000)
        runner.poll(end)
    assert runner.button_only and 5000 <= end <= 5300, end
    assert "stuck" in events.of("sensor_fault")[0][2]["error"]


def test_missing_sensor_starts_button_only_and_says_why():
    time, m, parts, app, events, motion, runner = setup(chip=False)
    assert parts.sensor is None
    runner.start(0)
    run_until(runner, time, None, 2500)
    fault = events.of("sensor_fault")
    assert fault and fault[0][0] == 0 and "no answer" in fault[0][2]["error"], fault
    assert events.times("step_end", step="Warm") == [2000]   # the session runs anyway


def test_a_chip_that_stops_sampling_is_noticed():
    time, m, parts, app, events, motion, runner = setup()
    runner.start(0)
    run_until(runner, time, None, 4000)           # the chip answers but its FIFO stays empty
    fault = events.of("sensor_fault")
    # noticed at the first FIFO read 2 s after the last sample (reads come every fifo_ms)
    assert fault and "no samples" in fault[0][2]["error"], fault
    assert 2000 <= fault[0][0] <= 2000 + runner.fifo_ms, fault


def test_m5stickc_holds_power_and_draws_the_step_on_its_screen():
    time, m, parts, app, events, motion, runner = setup("m5stickc-plus2")
    assert m.pins[4].level == 1 and m.pins[4].mode == m.Pin.OUT
    assert parts.sensor.chip == "mpu6886" and parts.output.motor_pin is None
    assert m.pins[37].pull == -1                  # input-only pin: no internal pull asked
    assert parts.faults == [], parts.faults
    assert hasattr(parts.display, "tick")         # the screen layout (swcore.screen) over the ST7789
    m.adc_mv[38] = 1860                           # 3.72 V on the cell, half of it at the pin
    assert parts.display.battery_mv() == 3720
    spi = m.spis[0]
    before = len(spi.written)
    runner.start(0)
    assert m.pins[27].level == 1                  # backlight on
    frame = spi.written[before:]
    # the step start drew the screen: the RAM-write command, then a band of text with white ink
    assert b"\x2c" in frame and any(len(w) > 1000 and b"\xff\xff" in w for w in frame), len(frame)
    runner.service(1000)
    assert parts.display.battery_pct == 33        # swcore.battery's LiPo curve: 30 % at 3.70 V, 48 % at 3.80 V


def _write(root, name, text):
    with open(root + name, "w") as f:
        f.write(text)


def _tmpdir(tag):
    import os
    root = HERE + "/../../build/test_runtime_%s/" % tag
    for d in (HERE + "/../../build", root[:-1]):
        try:
            os.mkdir(d)
        except OSError:
            pass
    for n in ("board.json", "plan.json"):
        try:
            os.remove(root + n)
        except OSError:
            pass
    try:                                    # a fresh flash: no sessions from earlier runs
        for n in os.listdir(root + "log"):
            os.remove(root + "log/" + n)
    except OSError:
        pass
    return root


def test_main_falls_back_on_a_bad_plan_and_a_bad_board_file():
    root = _tmpdir("bad")
    _write(root, "board.json", '{"id": "x", "name": "x", "runtime": "micropython", "port": "rp2"')
    _write(root, "plan.json", '{"name": "P", "sets": []}')
    time = FakeTime()
    events = Collector()
    runner = device_main.prepare(FakeMachine(time), time, root, sinks=[events])
    runner.start(0)
    assert runner.app.plan_name == "Descending Sprints"
    assert "no sets" in events.of("plan_fallback")[0][2]["error"]
    board_fault = events.of("board_fault")[0][2]["error"]
    assert "board.json" in board_fault and "JSON" in board_fault, board_fault
    assert runner.button_only


def _fallback_with_sensor_and_log(plan_bytes, name):
    """main.prepare on a good board with ``plan_bytes`` as plan.json: the built-in
    session must run with its sensor, the error cue and a plan_fallback record, in
    the session log too. Returns the plan_fallback error text."""
    root = _tmpdir(name)
    with open(HERE + "/../../boards/esp32-s3-devkitc-bmi160.json") as f:
        _write(root, "board.json", f.read())
    with open(root + "plan.json", "wb") as f:
        f.write(plan_bytes)
    time = FakeTime()
    events = Collector()
    m = FakeMachine(time, devices=[FakeBMI160(0x68)])
    runner = device_main.prepare(m, time, root, sinks=[events])
    runner.start(0)
    assert runner.app.plan_name == "Descending Sprints"
    assert not runner.button_only and runner.parts.sensor is not None
    assert [f["pattern"] for _t, _e, f in events.of("cue")][0] == "error"
    error = events.of("plan_fallback")[0][2]["error"]
    writer = runner.app.sinks[-1]
    from swcore.logformat import read_session
    with open(writer.path, "rb") as f:
        header, records, problems = read_session(f.read())
    assert header["builtin"] and not problems
    assert [r for r in records if r[1] == "plan_fallback"][0][2]["error"] == error
    return error


def test_a_huge_number_in_the_plan_falls_back_with_sensor_log_and_record():
    for number in (b"1e308", b"1e400", b"NaN", b"Infinity"):
        error = _fallback_with_sensor_and_log(
            b'{"name": "P", "sets": [{"name": "S", "steps": [{"name": "J", "kind": "timed", "duration_s": '
            + number + b'}]}]}', "huge")
        assert error.startswith("plan error:"), error


def test_an_empty_or_oversized_plan_file_falls_back_with_the_error_cue():
    assert "empty" in _fallback_with_sensor_and_log(b"", "empty")
    big = b'{"name": "P", "note": "' + b"x" * 40000 + b'", "sets": []}'
    assert "more than 16384" in _fallback_with_sensor_and_log(big, "big")
    assert "nested" in _fallback_with_sensor_and_log(b"[" * 5000, "deep")


def test_main_runs_a_good_board_with_its_sensor():
    root = _tmpdir("good")
    with open(HERE + "/../../boards/esp32-s3-devkitc-bmi160.json") as f:
        _write(root, "board.json", f.read())
    _write(root, "plan.json", json.dumps(PLAN))
    time = FakeTime()
    events = Collector()
    m = FakeMachine(time, devices=[FakeBMI160(0x68)])
    runner = device_main.prepare(m, time, root, sinks=[events])
    runner.start(0)
    assert runner.app.plan_name == "Short" and not runner.button_only
    assert runner.parts.sensor.chip == "bmi160" and m.i2c_args == (0, 9, 8, 400000)
    # the session is logged to the board's flash, the plan named by its hash
    writer = runner.app.sinks[-1]
    from swcore.logformat import read_session
    with open(writer.path, "rb") as f:
        header, records, problems = read_session(f.read())
    assert header["plan"] == "Short" and header["session"] == writer.sid and not problems
    assert records == events.events


def test_the_asyncio_loop_runs_a_short_session_in_real_time():
    ticks = RealTicks()
    plan = {"name": "Tiny", "sets": [{"name": "S", "steps": [
        {"name": "Only", "kind": "timed", "duration_s": 1}]}]}
    m = FakeMachine(FakeTime(), devices=[FakeLIS3DH(0x18)])
    parts = mp.build(board("pico-w-lis3dh"), m, ticks)
    name, steps, _t, err = load_plan(lambda: json.dumps(plan))
    events = Collector()
    app = App(parts, name, steps, [events])
    Runner(app, parts, err).run()
    end = events.times("session_end")
    assert end and 1000 <= end[0] <= 1100, end
    # (the fake chip gives no samples: 2 s in, while the end cue plays, the stall check
    # rightly goes button-only; plans are at least 1 s long since issue 15)
    assert not [e for e in events.of("button_only") if e[0] <= end[0]]


def test_reading_the_sensor_into_the_app_allocates_nothing():
    time, m, parts, app, events, motion, runner = setup()
    app.motion = None                             # the pipeline has its own heap test
    chip = m.bus.devices[0x18]
    runner.start(0)
    for k in range(30):
        chip.push(k, -k, 1000)
    time.advance(600)
    now = runner.clock.now()
    heap_lock()
    try:
        n = runner.read_sensor(now)
    finally:
        heap_unlock()
    assert n == 30 and runner.last_t == now and not runner.button_only


def _cut_session(tag, stop_at_ms):
    """A board whose previous boot was cut ``stop_at_ms`` into the default session."""
    root = _tmpdir(tag)
    with open(HERE + "/../../boards/pico-w-lis3dh.json") as f:
        _write(root, "board.json", f.read())
    return root, _boot(root, stop_at_ms)[1]          # no session_end: the power went


def _boot(root, until_ms, actions=()):
    time = FakeTime()
    events = Collector()
    m = FakeMachine(time, devices=[FakeLIS3DH(0x18)])
    runner = device_main.prepare(m, time, root, sinks=[events])
    runner.start(0)
    pin = m.pins[16]
    run_until(runner, time, None, until_ms, [(t, (lambda v: lambda: pin.drive(v))(v)) for t, v in actions], step=20)
    return runner, events


def test_after_a_cut_a_tap_at_the_resume_cue_goes_on_with_the_same_session():
    root, first = _cut_session("resume", 700000)      # cut in Dynamic Stretches
    runner, events = _boot(root, 500)
    assert events.of("step_start") == []              # asking, not running
    assert runner.app.player.busy()
    runner, events = _boot(root, 3000, [(1000, 0), (1120, 1)])
    starts = events.of("step_start")
    assert [f["step"] for _, _, f in starts] == ["Dynamic Stretches"]
    assert starts[0][0] > first.events[-1][0]         # session time carries on
    writer = runner.app.sinks[-1]
    from swcore.logformat import read_session
    with open(writer.path, "rb") as f:
        _, records, problems = read_session(f.read())
    names = [e for _, e, _ in records]
    assert not problems and names.count("step_start") == 3   # jog, stretches, stretches again
    assert names.index("resumed") < len(names) - 1 and "interrupted" not in names


def test_after_a_cut_no_tap_closes_it_as_interrupted_and_starts_anew():
    root, _first = _cut_session("noresume", 30000)
    runner, events = _boot(root, 12000)
    starts = events.of("step_start")
    assert [f["step"] for _, _, f in starts] == ["Easy Jog"]
    assert starts[0][0] >= 10000                       # after the 10 s offer ran out
    states = dict(runner.app.sinks[-1].store.ids())
    assert sorted(states.values()) == ["finished", "unfinished"]   # the cut one closed, kept


def test_a_cut_session_of_another_plan_is_not_offered():
    root, _first = _cut_session("otherplan", 30000)
    _write(root, "plan.json", json.dumps(PLAN))        # a new plan was uploaded since
    runner, events = _boot(root, 200)
    assert runner.resume_offer is None
    assert [f["step"] for _, _, f in events.of("step_start")] == [PLAN["sets"][0]["steps"][0]["name"]]


WAKE_PLAN = {"name": "Wakes", "sets": [{"name": "S", "steps": [
    {"name": "Jog", "kind": "timed", "duration_s": 60},
    {"name": "Setup", "kind": "open"},
    {"name": "Sprint", "kind": "sprint", "max_s": 30},
    {"name": "Walk", "kind": "timed", "duration_s": 30},
]}]}


def run_waking(runner, time, chip, end_ms, presses=()):
    """The runner's own loop in virtual time: sleep until ``wake`` says, the chip
    sampling at the board rate meanwhile; a press ends the sleep at once, as the
    button IRQ does on a board. Returns the wake-up times."""
    period = runner.period_ms
    edges = []
    for t, hold in presses:
        edges.append((t, 0))
        edges.append((t + hold, 1))
    pin = runner.parts.button.pin
    pushed = runner.clock.now()
    wakes = []
    now = runner.clock.now()
    while now < end_ms and not runner.finished:
        while chip is not None and pushed + period <= now:
            pushed += period
            chip.push(pushed % 97, 0, 1000)
        while edges and edges[0][0] <= now:
            pin.drive(edges.pop(0)[1])
        wakes.append(now)
        nxt = runner.wake(now)
        if edges and edges[0][0] < nxt:
            nxt = edges[0][0]
        time.advance(max(1, nxt - now))
        now = runner.clock.now()
    return wakes


def _per_second(wakes, start, end):
    n = len([t for t in wakes if start <= t < end])
    return n * 1000 / (end - start)


def test_the_loop_wakes_at_most_twice_a_second_in_timed_steps_and_12_in_a_sprint():
    time, m, parts, app, events, motion, runner = setup(plan=WAKE_PLAN)
    chip = m.bus.devices[0x18]
    runner.start(0)
    # tap away Setup at 61 s, go at 65 s, end the sprint by a tap at 85 s
    wakes = run_waking(runner, time, chip, 130000, [(61000, 120), (65000, 120), (85000, 120)])
    assert events.times("step_start", step="Walk") == [85000], events.of("step_start")
    timed = _per_second(wakes, 1000, 59000)          # the jog, away from its start cues
    sprint = _per_second(wakes, 66000, 84000)
    walk = _per_second(wakes, 87000, 114000)
    assert timed <= 2 and walk <= 2, (timed, walk)
    assert sprint <= 12, sprint
    assert sprint > timed                            # the FIFO is read more often in a sprint
    fed = motion.times
    assert all(b - a == 20 for a, b in zip(fed, fed[1:])), "a sample lost or doubled"
    end = events.times("session_end")[0]
    assert len(fed) >= end // 20 - 30, (len(fed), end)   # every sample up to the last read


def test_a_press_is_timed_to_its_irq_and_a_held_press_does_not_spin_the_loop():
    time, m, parts, app, events, motion, runner = setup(plan=WAKE_PLAN)
    runner.start(0)
    # a 3 s press across the jog's end: its deadline waits for the gesture (a long press)
    wakes = run_waking(runner, time, m.bus.devices[0x18], 64000, [(59500, 3000)])
    assert events.times("step_start", step="Setup") == [60000]   # on its deadline, not late
    assert events.times("pause") == [60500], events.of("pause")   # a long press: press + 1 s
    assert _per_second(wakes, 59500, 62500) <= 8, _per_second(wakes, 59500, 62500)  # cues, reads: no spin


class _Flag:
    def __init__(self):
        self.sets = 0

    def set(self):
        self.sets += 1


def test_the_button_irq_wakes_the_loop_and_allocates_nothing():
    time, m, parts, app, events, motion, runner = setup()
    flag = _Flag()
    parts.button.waker = flag
    pin = m.pins[16]
    heap_lock()
    try:
        for level in (0, 1, 0, 1):
            pin.drive(level)
    finally:
        heap_unlock()
    assert flag.sets == 4


def test_light_sleep_only_with_no_cue_playing_and_no_bluetooth_beside():
    time, m, parts, app, events, motion, runner = setup()
    assert runner.light_sleep is None or callable(runner.light_sleep)
    runner.light_sleep = lambda ms: None
    runner.start(0)                                  # the step-start cue plays
    assert not runner.may_light_sleep(500)
    app.player.service(0)
    app.player.service(2000)                         # the cue is over
    assert runner.may_light_sleep(500) and not runner.may_light_sleep(50)
    runner.background.append(object())               # a Bluetooth task runs beside
    assert not runner.may_light_sleep(500)


def test_light_sleep_on_the_esp32_wakes_on_the_button_and_not_on_the_rp2():
    import sys

    class FakeESP32:
        ext0 = None

        @staticmethod
        def wake_on_ext0(pin, level):
            FakeESP32.ext0 = (pin, level)

    slept = []
    sys.modules["esp32"] = FakeESP32
    try:
        time = FakeTime(0)
        m = FakeMachine(time, devices=[FakeMPU6886(0x68)])
        m.lightsleep = slept.append
        parts = mp.build(board("m5stickc-plus2"), m, time)
        assert FakeESP32.ext0 == (m.pins[37], 0)           # button A, low while pressed
        assert parts.light_sleep is not None
        parts.light_sleep(300)
        assert slept == [300]
        m2 = FakeMachine(time, devices=[FakeLIS3DH(0x18)])
        m2.lightsleep = slept.append
        assert mp.build(board("pico-w-lis3dh"), m2, time).light_sleep is None
    finally:
        del sys.modules["esp32"]
