"""Fake CircuitPython port modules (``board``, ``busio``, ``digitalio``, ``keypad``,
``pwmio``) on a virtual clock, for running ``swrt.cp`` on CPython.

The fake ``board`` has exactly the pins of the real board's stub from
circuitpython-stubs, so a pin name the board lacks fails here as on the device.
The fake ``busio.I2C`` insists on ``try_lock`` like the real one and carries
emulated chips (tests/firmware/fake_i2c.py) fed from a trace in virtual time.
``VirtualTimeLoop`` is an asyncio loop whose sleeps advance that clock instantly.
"""
import asyncio
import re
import selectors
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "firmware"))
from fake_i2c import FakeBus  # noqa: E402


class VirtualClock:
    def __init__(self):
        self.ns = 0

    def monotonic_ns(self):
        return self.ns

    def ms(self):
        return self.ns // 1000000

    def advance(self, seconds):
        self.ns += max(1, int(round(seconds * 1e9)))


class _InstantSelector(selectors.SelectSelector):
    def __init__(self, clock):
        super().__init__()
        self.clock = clock

    def select(self, timeout=None):
        if timeout:
            self.clock.advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """asyncio on the virtual clock: ``await asyncio.sleep(x)`` takes no real time."""

    def __init__(self, clock):
        super().__init__(selector=_InstantSelector(clock))
        self.clock = clock

    def time(self):
        return self.clock.ns / 1e9


class Pin:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "board.%s" % self.name


def board_pins(variant):
    stub = ROOT / ".stubs" / "circuitpython" / "board_definitions" / variant / "__init__.pyi"
    return re.findall(r"^([A-Z_0-9]+): microcontroller\.Pin", stub.read_text(), re.M)


class Recorder:
    """What the board did: (t_ms, part, value) for every buzzer/enable/motor change."""

    def __init__(self, clock):
        self.clock = clock
        self.actions = []

    def add(self, part, value):
        self.actions.append((self.clock.ms(), part, value))

    def of(self, part):
        return [(t, v) for t, p, v in self.actions if p == part]


class ChipFeeder:
    """Pushes a trace into an emulated chip at its rate, up to the virtual now."""

    def __init__(self, chip, clock, rows, rate_hz):
        self.chip = chip
        self.clock = clock
        self.rows = rows
        self.rate = rate_hz
        self.pushed = 0

    def catch_up(self):
        due = self.clock.ms() * self.rate // 1000
        while self.pushed < due:
            row = self.rows[self.pushed % len(self.rows)] if self.rows else (0, 0, 1000)
            self.chip.push(*row)
            self.pushed += 1


TICKS_MASK = (1 << 29) - 1


def make_modules(clock, variant, devices=(), feeders=(), presses=(), levels=None):
    """The fake port modules, as a dict name -> module (for sys.modules), and a Recorder.

    ``presses`` are (t_ms, hold_ms) on key 0, reported by keypad at those times;
    ``levels`` maps pin names to the level a digitalio input reads (else its pull's).
    """
    levels = levels or {}
    rec = Recorder(clock)
    board = types.ModuleType("board")
    board.board_id = variant
    for name in board_pins(variant):
        setattr(board, name, Pin(name))

    busio = types.ModuleType("busio")

    class I2C:
        def __init__(self, scl, sda, *, frequency=100000, timeout=255):
            assert isinstance(scl, Pin) and isinstance(sda, Pin)
            self.bus = FakeBus(*devices)
            self.locked = False
            self.frequency = frequency

        def try_lock(self):
            if self.locked:
                return False
            self.locked = True
            return True

        def unlock(self):
            self.locked = False

        def _transfer(self):
            if not self.locked:
                raise RuntimeError("Function requires lock")
            for f in feeders:
                f.catch_up()

        def writeto_then_readfrom(self, address, buffer_out, buffer_in):
            self._transfer()
            self.bus.readfrom_mem_into(address, buffer_out[0], buffer_in)

        def writeto(self, address, buffer):
            self._transfer()
            self.bus.writeto_mem(address, buffer[0], bytes(buffer[1:]))

    busio.I2C = I2C

    class SPI:
        """The TFT's bus: counts what the display driver sends (commands, text bands)."""
        def __init__(self, clock, MOSI=None, MISO=None, half_duplex=False):
            assert isinstance(clock, Pin) and isinstance(MOSI, Pin)
            self.locked = False
            self.baudrate = 0
            self.bytes = 0
            self.commands = set()
            self.bands = []               # the first few long writes (lines of text)
            rec.spi = self

        def try_lock(self):
            if self.locked:
                return False
            self.locked = True
            return True

        def configure(self, *, baudrate=100000, polarity=0, phase=0, bits=8):
            assert self.locked, "configure needs the lock"
            self.baudrate = baudrate

        def write(self, buf, *, start=0, end=None):
            assert self.locked, "write needs the lock"
            self.bytes += len(buf)
            if len(buf) == 1:
                self.commands.add(bytes(buf))
            elif len(buf) > 1000 and len(self.bands) < 20:
                self.bands.append(bytes(buf))

    busio.SPI = SPI

    displayio = types.ModuleType("displayio")
    displayio.release_displays = lambda: rec.add("release_displays", True)

    digitalio = types.ModuleType("digitalio")

    class DigitalInOut:
        def __init__(self, pin):
            assert isinstance(pin, Pin), pin
            self.pin = pin
            self._value = False
            self.output = False

        def switch_to_output(self, value=False, drive_mode=None):
            self.output = True
            self.value = value

        def switch_to_input(self, pull=None):
            self.output = False
            self._value = levels.get(self.pin.name, pull is Pull.UP)

        def deinit(self):
            pass

        @property
        def value(self):
            return self._value

        @value.setter
        def value(self, v):
            if not self.output:
                raise AttributeError("Cannot set value when direction is input.")
            if bool(v) != self._value and not self.pin.name.startswith("TFT_"):
                rec.add(self.pin.name, bool(v))     # (the screen's bus pins would flood it)
            self._value = bool(v)

    class Pull:
        UP = object()
        DOWN = object()

    digitalio.DigitalInOut = DigitalInOut
    digitalio.Pull = Pull

    pwmio = types.ModuleType("pwmio")

    class PWMOut:
        def __init__(self, pin, *, duty_cycle=0, frequency=500, variable_frequency=False):
            assert isinstance(pin, Pin), pin
            self.pin = pin
            self.variable = variable_frequency
            self._freq = frequency
            self._duty = duty_cycle

        @property
        def frequency(self):
            return self._freq

        @frequency.setter
        def frequency(self, hz):
            if not self.variable:
                raise ValueError("PWM frequency not writable when variable_frequency is False.")
            self._freq = hz

        @property
        def duty_cycle(self):
            return self._duty

        @duty_cycle.setter
        def duty_cycle(self, d):
            if not 0 <= d <= 65535:
                raise ValueError("duty_cycle must be 0..65535")
            self._duty = d
            rec.add("tone", self._freq if d else 0)

    pwmio.PWMOut = PWMOut

    keypad = types.ModuleType("keypad")

    class Event:
        def __init__(self, key_number=0, pressed=True):
            self.key_number = key_number
            self.pressed = pressed
            self.released = not pressed
            self.timestamp = 0

    class EventQueue:
        def __init__(self):
            self.edges = []
            for t, hold in sorted(presses):
                self.edges += [(t, True), (t + hold, False)]
            self.edges.sort()

        def get_into(self, event):
            if self.edges and self.edges[0][0] <= clock.ms():
                t, pressed = self.edges.pop(0)
                event.timestamp = t & TICKS_MASK       # supervisor.ticks_ms of the edge
                event.key_number = 0
                event.pressed = pressed
                event.released = not pressed
                return True
            return False

    class Keys:
        def __init__(self, pins, *, value_when_pressed, pull=True, interval=0.02, max_events=64):
            assert all(isinstance(p, Pin) for p in pins)
            self.pins = pins
            self.value_when_pressed = value_when_pressed
            self.pull = pull
            self.events = EventQueue()

        def deinit(self):
            pass

    keypad.Event = Event
    keypad.Keys = Keys

    storage = types.ModuleType("storage")
    storage.readonly = True                       # CircuitPython's default: USB owns it

    class _Mount:
        @property
        def readonly(self):
            return storage.readonly

    def remount(mount_path, readonly=False, *, disable_concurrent_write_protection=False):
        assert mount_path == "/"
        storage.readonly = readonly
        rec.add("remount", readonly)

    storage.getmount = lambda path: _Mount()
    storage.remount = remount
    supervisor = types.ModuleType("supervisor")
    supervisor.ticks_ms = lambda: clock.ms() & TICKS_MASK   # wraps at 2**29, as on a board
    mods = {"board": board, "busio": busio, "digitalio": digitalio, "displayio": displayio, "pwmio": pwmio,
            "keypad": keypad, "storage": storage, "supervisor": supervisor}
    return mods, rec
