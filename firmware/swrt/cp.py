"""CircuitPython runtime layer: a board's parts on ``board``, ``keypad``, ``pwmio``, ``busio``.

The CircuitPython twin of ``swrt.mp``: ``build(spec)`` turns the parsed board file
(``swcore.boardspec``; pins are ``board`` names such as ``"SPEAKER_ENABLE"``) into
``Parts`` (a session clock on ``time.monotonic_ns``, the cue output on a ``pwmio``
tone plus the speaker's enable pin, debounced ``keypad`` button events, the
accelerometer driver on ``busio.I2C``). A part that fails is left out and recorded in
``parts.faults``; ``build`` never raises. ``prepare`` wires them to the app and
the asyncio runner (``swrt.runner``); the app, plan, engine, cues, runner and
drivers are the very modules MicroPython runs.

The port modules are imported here, at the top, and port objects handed to a
constructor carry a type comment, so ``make typecheck`` checks every call against
the board's own stubs; tests put fakes in ``sys.modules`` first.
"""
import time

import board
import busio
import digitalio
import displayio
import keypad
import pwmio
import supervisor

from drivers.sensor import SensorError
from swrt.cpbus import I2CMem
from swrt.session import console_sink, session_store

TYPE_CHECKING = False
if TYPE_CHECKING:                       # make typecheck only
    from typing import Any, Callable
    from swrt.ble_cp import SyncPeripheral
    from swrt.runner import Runner
    from swcore.screen import Screen


class Clock:
    """Milliseconds since the session clock started, from ``time.monotonic_ns``."""

    def __init__(self, monotonic_ns=None):
        # type: (Callable[[], int] | None) -> None
        self._ns = monotonic_ns or time.monotonic_ns
        self._t0 = self._ns()

    def now(self):
        return (self._ns() - self._t0) // 1000000

    def shift(self, ms):
        # type: (int) -> None
        """Move session time by ``ms`` (a resumed session carries on from its last record)."""
        self._t0 -= ms * 1000000


def pin(name):
    """The ``board`` pin the board file names (``make typecheck`` checks the names)."""
    p = getattr(board, name, None)
    if p is None:
        raise ValueError("this board has no pin board.%s" % name)
    return p


class CueOutput:
    """``apply(t, tone_hz, motor)`` as the cue player calls it: a PWM tone, an optional
    amplifier enable pin (Circuit Playground's speaker), an optional motor pin."""

    def __init__(self, pwm=None, volume=32768, enable=None, motor=None, motor_active=1):
        # type: (pwmio.PWMOut | None, int, digitalio.DigitalInOut | None, digitalio.DigitalInOut | None, int) -> None
        self.pwm = pwm
        self.volume = volume
        self.enable = enable
        self.motor_pin = motor
        self.motor_active = motor_active
        self.tone = 0
        self.motor = 0

    def apply(self, t, tone_hz, motor):
        # type: (int, int, int) -> None
        if tone_hz != self.tone and self.pwm is not None:
            if tone_hz > 0:
                self.pwm.frequency = tone_hz
                self.pwm.duty_cycle = self.volume
            else:
                self.pwm.duty_cycle = 0
            if self.enable is not None:
                self.enable.value = tone_hz > 0
        self.tone = tone_hz
        if motor != self.motor and self.motor_pin is not None:
            self.motor_pin.value = bool(self.motor_active) == bool(motor)
        self.motor = motor

    def off(self):
        self.apply(0, 0, 0)


_TICKS_MASK = 0x1FFFFFFF      # supervisor.ticks_ms wraps at 2**29


class Buttons:
    """``keypad.Keys`` (debounced in the background) -> ``button(pressed, t_ms)``.

    Nothing wakes the runner when a key changes (``wakes`` False: it polls), so each
    edge is timed by its own ``timestamp`` (``supervisor.ticks_ms``), not by when the
    queue was read: gestures come out the same however rarely it is polled.
    """
    wakes = False

    def __init__(self, pins, active, pull):
        self.keys = keypad.Keys(pins, value_when_pressed=bool(active), pull=pull is not None)
        self.event = keypad.Event()          # reused: draining allocates nothing

    def drain(self, clock, button):
        # type: (Clock, Callable[[bool, int], Any]) -> None
        ev = self.event
        while self.keys.events.get_into(ev):
            if ev.key_number == 0:
                now = clock.now()
                age = (supervisor.ticks_ms() - ev.timestamp) & _TICKS_MASK
                button(ev.pressed, now - age if age < now else now)

    def deinit(self):
        self.keys.deinit()


class PinOut:
    """``value(v)`` as the display driver calls it, on a ``digitalio`` output."""

    def __init__(self, io):
        # type: (digitalio.DigitalInOut) -> None
        self.io = io

    def value(self, v):
        self.io.value = bool(v)


class SPIBus:
    """``write(buf)`` as the display driver calls it, on ``busio.SPI``: the screen has
    the bus to itself (the CLUE's TFT pins), so it is locked and configured once."""

    def __init__(self, spi, baudrate):
        # type: (busio.SPI, int) -> None
        while not spi.try_lock():
            pass
        spi.configure(baudrate=baudrate, polarity=0, phase=0)
        self.spi = spi

    def write(self, buf):
        self.spi.write(buf)


def _output_pin(name, value):
    # type: (str, bool) -> PinOut
    io = digitalio.DigitalInOut(pin(name))
    io.switch_to_output(value=value)
    return PinOut(io)


def _build_display(d):
    # type: (dict[str, Any]) -> Screen
    """The screen. CircuitPython starts the CLUE's ST7789 itself, as ``board.DISPLAY``
    for displayio (its console is drawn there). The firmware takes the panel over:
    ``displayio.release_displays()`` frees the SPI bus and pins, then the same ST7789
    driver and screen layout as the MicroPython boards run over ``busio.SPI`` (a
    displayio group would allocate on every text change; this path allocates nothing
    per second, and one driver is tested for both)."""
    from drivers.st7789 import ST7789
    from swcore.screen import Screen
    displayio.release_displays()
    spi = busio.SPI(pin(d["sck"]), MOSI=pin(d["mosi"]))
    rst = _output_pin(d["rst"], True) if d.get("rst") is not None else None
    return Screen(ST7789(SPIBus(spi, d["baudrate"]), _output_pin(d["cs"], True), _output_pin(d["dc"], False),
                         rst, _output_pin(d["backlight"], False), d["width"], d["height"],
                         d["x_offset"], d["y_offset"], d["rotation"]))


def open_accel(chip, i2c, address, rate_hz):
    """The driver for ``chip`` (imported only when used, to save RAM)."""
    if chip == "lis3dh":
        from drivers.lis3dh import LIS3DH as Driver
    elif chip == "lsm6ds":
        from drivers.lsm6ds import LSM6DS as Driver
    else:
        raise SensorError(chip, address, "no CircuitPython driver for this chip")
    return Driver(i2c, address, rate_hz=rate_hz)


class Parts:
    def __init__(self, spec, clock):
        self.spec = spec
        self.clock = clock
        self.output = CueOutput()
        self.display = None
        self.button = None
        self.sensor = None
        self.sensor_error = None
        self.rate_hz = 50
        self.faults = []


def _build_output(spec):
    # type: (dict[str, Any]) -> CueOutput
    pwm = None
    enable = None
    volume = 32768
    buzzer = spec.get("buzzer")
    if buzzer:
        volume = buzzer["volume"]
        if buzzer.get("enable") is not None:
            enable = digitalio.DigitalInOut(pin(buzzer["enable"]))
            enable.switch_to_output(value=False)
        pwm = pwmio.PWMOut(pin(buzzer["pin"]), duty_cycle=0, frequency=2000,
                           variable_frequency=True)
    motor_pin = None
    active = 1
    motor = spec.get("motor")
    if motor:
        active = motor["active"]
        motor_pin = digitalio.DigitalInOut(pin(motor["pin"]))
        motor_pin.switch_to_output(value=not active)
    return CueOutput(pwm, volume, enable, motor_pin, active)


def build(spec, sensor=True, clock=None):
    # type: (dict[str, Any] | None, bool, Clock | None) -> Parts
    """Every part the board has, each built on its own so one failure spares the rest."""
    parts = Parts(spec, clock or Clock())
    if spec is None:
        parts.sensor_error = "no board definition"
        return parts
    try:
        parts.output = _build_output(spec)
    except Exception as e:
        parts.faults.append(("output_fault", "buzzer/motor: %s" % e))
    button = spec.get("button")
    if button:
        try:
            parts.button = Buttons((pin(button["pin"]),), button["active"], button.get("pull"))
        except Exception as e:
            parts.faults.append(("button_fault", "button: %s" % e))
    accel = spec.get("accel")
    if accel:
        parts.rate_hz = accel["rate_hz"]
    if not sensor:
        parts.sensor_error = "accelerometer not started (safe mode)"
    elif not accel or not spec.get("i2c"):
        parts.sensor_error = "this board has no accelerometer"
    else:
        try:
            bus = spec["i2c"]
            i2c = busio.I2C(pin(bus["scl"]), pin(bus["sda"]), frequency=bus["freq"])
            parts.sensor = open_accel(accel["chip"], I2CMem(i2c), accel["address"],
                                      accel["rate_hz"])
        except Exception as e:              # SensorError, or a pin/bus that fails
            parts.sensor_error = str(e)
    display = spec.get("display")
    if display:
        try:
            parts.display = _build_display(display)
        except Exception as e:
            parts.faults.append(("display_fault", "display: %s" % e))
    return parts




def prepare(root="/", sinks=(), safe=False, clock=None, save_sessions=True):
    """Board parts, app and runner (``swrt.runner``, shared with MicroPython), ready to run.

    ``save_sessions`` is False while the computer owns the drive (``swrt.cpstorage``):
    the session then runs without a log file.
    """
    from app import App, load_plan, unload_plan_parser
    from swrt.runner import Runner
    from swrt.session import PLAN_FILE_LIMIT, file_reader, read_board, motion_pipeline

    spec, board_error = read_board(root)
    parts = build(spec, sensor=not safe, clock=clock)
    if board_error:
        parts.faults.insert(0, ("board_fault", board_error))
    name, steps, plan_text, plan_error = load_plan(
        (lambda: None) if safe else file_reader(root + "plan.json", PLAN_FILE_LIMIT))
    app = App(parts, name, steps, list(sinks), motion=motion_pipeline(parts, safe))
    unload_plan_parser()
    runner = Runner(app, parts, plan_error)
    if save_sessions and not safe:            # a new session file, or go on with a cut one
        from swrt.session import start_session_log
        runner.resume_offer = start_session_log(app, parts, root, plan_text, len(steps))
    return runner


def start_sync(runner, root="/"):
    # type: (Runner, str) -> SyncPeripheral | None
    """The Bluetooth sync service (swrt.ble_cp, adafruit_ble) for this session's store,
    or None: no key from `sprintwatch flash`, no session store (USB mode), or no
    ``_bleio``. It never stops the session."""
    store = session_store(runner)
    try:
        open(root + "sync.key").close()
    except OSError:
        return None
    if store is None:
        return None
    try:
        from swrt import ble_cp
        from app import FIRMWARE_VERSION
        spec = runner.parts.spec or {}
        sync = ble_cp.start_sync(store, root, model=spec.get("id", "circuitpython"),
                                 firmware=FIRMWARE_VERSION)  # type: SyncPeripheral
    except Exception as e:
        runner.parts.faults.append(("sync_fault", "Bluetooth sync not started: %s" % e))
        return None
    runner.background.append(sync.run())
    return sync


def main(root="/"):
    from swrt.cpstorage import drive_mode, announce, DEVICE
    mode = drive_mode()
    try:
        runner = prepare(root, (console_sink,), save_sessions=mode == DEVICE)
    except Exception as e:
        print("sprintwatch: startup failed (%s); running the built-in session, button only" % e)
        runner = prepare(root, (console_sink,), safe=True)
        runner.parts.faults.append(("startup_fault", str(e)))
    announce(runner.app, mode)
    sync = start_sync(runner, root)
    try:
        runner.run()
    except Exception as e:
        runner.parts.output.off()
        print("sprintwatch: session stopped by an error: %s" % e)
    if sync is not None:                      # session over: stay available for sync
        import asyncio
        asyncio.run(sync.run())
    return runner
