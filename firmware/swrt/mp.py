"""MicroPython runtime layer: a board's parts, built from its ``board.json``.

``build(spec, machine, time)`` takes the parsed board (``swcore.boardspec``), the
``machine`` module and the ``time`` module (injected: tests pass fakes, the unix
port has no Pin/I2C/PWM) and returns ``Parts``: a session clock, the cue output
(PWM buzzer + motor pin), the button ring (Pin IRQ), the accelerometer driver and
the display. A part that fails to come up is left out and recorded in
``parts.faults`` as ``(event, detail)``; ``build`` itself never raises, so the
device always gets as far as running a session.
"""
import array

from drivers.sensor import SensorError

TYPE_CHECKING = False
if TYPE_CHECKING:                       # make typecheck: see swrt/porttypes.pyi
    from typing import Any, Callable
    from machine import PWM, Pin
    from swrt.porttypes import Machine, Time
    from swcore.screen import Screen
    import machine as _machine

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

_RING = const(32)


class Clock:
    """Milliseconds since the session clock started, wrap-safe.

    ``ticks_ms`` wraps (every 2^30 ms on the ports); each call adds the
    ``ticks_diff`` since the previous one, so the total never wraps as long as it is
    read at least once every few days, which the service loop does every few ms.
    """

    def __init__(self, time_mod):
        # type: (Time) -> None
        self.ticks_ms = time_mod.ticks_ms
        self.ticks_diff = time_mod.ticks_diff
        self._last = self.ticks_ms()
        self._elapsed = 0

    def now(self):
        t = self.ticks_ms()
        self._elapsed += self.ticks_diff(t, self._last)
        self._last = t
        return self._elapsed

    def shift(self, ms):
        # type: (int) -> None
        """Move session time by ``ms`` (a resumed session carries on from its last record)."""
        self._elapsed += ms

    def at(self, stamp):
        """Session time of ``stamp``, a recent raw ``ticks_ms`` value (from an IRQ)."""
        now = self.now()
        return now - self.ticks_diff(self._last, stamp)


class CueOutput:
    """``apply(t, tone_hz, motor)`` as the cue player calls it: PWM tone + motor pin."""

    def __init__(self, pwm, motor_pin=None, motor_active=1, volume=32768, enable_pin=None):
        # type: (PWM | None, Pin | None, int, int, Pin | None) -> None
        self.pwm = pwm
        self.motor_pin = motor_pin
        self.motor_active = motor_active
        self.volume = volume
        self.enable_pin = enable_pin
        self.tone = 0
        self.motor = 0

    def apply(self, t, tone_hz, motor):
        # type: (int, int, int) -> None
        if tone_hz != self.tone and self.pwm is not None:
            if tone_hz > 0:
                self.pwm.freq(tone_hz)
                self.pwm.duty_u16(self.volume)
            else:
                self.pwm.duty_u16(0)
            if self.enable_pin is not None:
                self.enable_pin.value(1 if tone_hz > 0 else 0)
        self.tone = tone_hz
        if motor != self.motor and self.motor_pin is not None:
            self.motor_pin.value(self.motor_active if motor else 1 - self.motor_active)
        self.motor = motor

    def off(self):
        self.apply(0, 0, 0)


class ButtonRing:
    """Pin IRQ -> a preallocated ring of (ticks_ms, level) edges; drained in the loop.

    The handler allocates nothing, so it runs as a hard IRQ. When the ring is full
    the newest slot is overwritten, so the last level read is never lost; and
    ``drain`` compares the pin with the last level it passed on, so even an edge
    whose IRQ never ran (or a ring overrun) cannot leave the button stuck "pressed".
    """

    wakes = True                           # its IRQ wakes the runner's loop

    def __init__(self, pin, active, ticks_ms, trigger):
        # type: (Pin, int, Callable[[], int], int) -> None
        self.pin = pin
        self.active = active
        self.ticks_ms = ticks_ms
        self.stamps = array.array("i", [0] * _RING)
        self.levels = bytearray(_RING)
        self.head = 0
        self.tail = 0
        self.overwritten = 0
        self.level = 1 - active            # last level passed on: released
        self.waker = None  # type: Any     # set by the runner: wakes its loop (ThreadSafeFlag)
        self._handler = self._irq          # one bound method, made once
        pin.irq(handler=self._handler, trigger=trigger, hard=True)

    def _irq(self, pin):
        level = self.pin.value()
        t = self.ticks_ms()
        nxt = (self.head + 1) % _RING
        if nxt == self.tail:                  # full: replace the newest edge
            i = (self.head - 1) % _RING
            self.overwritten += 1
        else:
            i = self.head
            self.head = nxt
        self.stamps[i] = t
        self.levels[i] = level
        if self.waker is not None:
            self.waker.set()

    def drain(self, clock, button):
        # type: (Clock, Callable[[bool, int], Any]) -> None
        """Feed every queued edge to ``button(pressed, t_ms)`` in order."""
        while self.tail != self.head:
            i = self.tail
            self.level = self.levels[i]
            button(self.level == self.active, clock.at(self.stamps[i]))
            self.tail = (i + 1) % _RING
        level = self.pin.value()
        if level != self.level and self.tail == self.head:
            self.level = level
            button(level == self.active, clock.now())


class BatterySense:
    """The cell's voltage through a divider on an ADC pin, in mV.

    ``select`` (Pico W) is a pin driven high while reading: GPIO29 is the wireless
    chip's SPI clock as well as VSYS/3, so its chip select (GPIO25) must be
    deselected first, and the pin handed back to it after (``Pin.ALT``, ``alt``).
    Read before Bluetooth starts.
    """

    def __init__(self, machine, spec):
        # type: (Machine, dict[str, Any]) -> None
        self.machine = machine
        self.pin = spec["pin"]
        self.ratio = spec["ratio"]
        self.select = spec.get("select")
        self.alt = spec.get("alt")

    def read_mv(self):
        machine = self.machine
        Pin = machine.Pin
        ADC = machine.ADC
        if self.select is not None:
            Pin(self.select, Pin.OUT, value=1)
        try:
            if hasattr(ADC, "read_uv"):                # esp32: calibrated, 0-3.1 V at 11 dB
                adc = ADC(Pin(self.pin), atten=ADC.ATTN_11DB)
            else:
                adc = ADC(Pin(self.pin, Pin.IN))
            read_uv = getattr(adc, "read_uv", None)
            if read_uv is not None:
                mv = read_uv() // 1000
            else:
                mv = adc.read_u16() * 3300 // 65535
        finally:
            if self.alt is not None:
                Pin(self.pin, Pin.ALT, pull=Pin.PULL_DOWN, alt=self.alt)
        return int(mv * self.ratio)


class Parts:
    def __init__(self, spec, clock):
        self.spec = spec
        self.clock = clock
        self.light_sleep = None     # machine.lightsleep where the button can end it
        self.battery_mv = None      # the cell's voltage at start-up, where the board measures it
        self.output = CueOutput(None)
        self.display = None
        self.button = None
        self.sensor = None
        self.sensor_error = None
        self.rate_hz = 50
        self.faults = []


def open_accel(chip, i2c, address, rate_hz):
    """The driver for ``chip`` (imported only when used, to save RAM)."""
    if chip == "lis3dh":
        from drivers.lis3dh import LIS3DH as Driver
    elif chip == "mpu6886":
        from drivers.mpu6886 import MPU6886 as Driver
    elif chip == "bmi160":
        from drivers.bmi160 import BMI160 as Driver
    else:
        raise SensorError(chip, address, "no driver for this chip")
    return Driver(i2c, address, rate_hz=rate_hz)


def light_sleep(spec, machine, pin, active):
    # type: (dict[str, Any], Machine, Pin, int) -> Any
    """``machine.lightsleep`` where a press of the button wakes the chip from it, else
    None. On the ESP32 the button's RTC GPIO is its EXT0 wake source. The rp2 port's
    light sleep is not ended by a pin (MicroPython's rp2 lightsleep wakes on its
    timer), so a tap during it would be lost: that port idles in ``asyncio`` instead."""
    if spec.get("port") != "esp32":
        return None
    try:                                # a feature probe: only the esp32 port has it
        import esp32
        esp32.wake_on_ext0(pin, active == 1)
    except ImportError:
        return None
    except (ValueError, OSError):       # not an RTC GPIO: no wake source
        return None
    return getattr(machine, "lightsleep", None)


def _pull(machine, name):
    # type: (Machine, str | None) -> int | None
    if name == "up":
        return machine.Pin.PULL_UP
    if name == "down":
        return machine.Pin.PULL_DOWN
    return None


def build(spec, machine, time_mod, sensor=True):
    # type: (dict[str, Any] | None, Machine | None, Time, bool) -> Parts
    """Every part the board has, each built on its own so one failure spares the rest."""
    clock = Clock(time_mod)
    parts = Parts(spec, clock)
    if spec is None or machine is None:
        parts.sensor_error = "no board definition"
        return parts
    Pin = machine.Pin
    hold = spec.get("power_hold")
    if hold:
        try:
            Pin(hold["pin"], Pin.OUT, value=hold["level"])
        except Exception as e:
            parts.faults.append(("power_fault", "power hold pin: %s" % e))
    try:
        parts.output = _build_output(spec, machine)
    except Exception as e:
        parts.faults.append(("output_fault", "buzzer/motor: %s" % e))
    button = spec.get("button")
    if button:
        try:
            pull = _pull(machine, button.get("pull"))
            pin = Pin(button["pin"], Pin.IN, pull) if pull is not None else Pin(button["pin"], Pin.IN)
            parts.button = ButtonRing(pin, button["active"], time_mod.ticks_ms,
                                      Pin.IRQ_FALLING | Pin.IRQ_RISING)
            parts.light_sleep = light_sleep(spec, machine, pin, button["active"])
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
            i2c = machine.I2C(bus["id"], scl=Pin(bus["scl"]), sda=Pin(bus["sda"]), freq=bus["freq"])
            parts.sensor = open_accel(accel["chip"], i2c, accel["address"], accel["rate_hz"])
        except Exception as e:              # SensorError, or a bad bus id / pin
            parts.sensor_error = str(e)
    display = spec.get("display")
    if display:
        try:
            parts.display = _build_display(display, machine)
        except Exception as e:
            parts.faults.append(("display_fault", "display: %s" % e))
    if spec.get("battery"):
        try:
            sense = BatterySense(machine, spec["battery"])
            parts.battery_mv = sense.read_mv()
            if parts.display is not None:
                parts.display.battery_mv = sense.read_mv   # the screen reads it once a minute
        except Exception as e:
            parts.faults.append(("battery_fault", "battery sense: %s" % e))
    return parts


def _build_output(spec, machine):
    # type: (dict[str, Any], Machine) -> CueOutput
    Pin = machine.Pin
    pwm = None
    enable = None
    volume = 32768
    buzzer = spec.get("buzzer")
    if buzzer:
        pwm = machine.PWM(Pin(buzzer["pin"]))
        pwm.freq(2000)
        pwm.duty_u16(0)
        volume = buzzer["volume"]
        if buzzer.get("enable") is not None:
            enable = Pin(buzzer["enable"], Pin.OUT, value=0)
    motor_pin = None
    active = 1
    motor = spec.get("motor")
    if motor:
        active = motor["active"]
        motor_pin = Pin(motor["pin"], Pin.OUT, value=1 - active)
    return CueOutput(pwm, motor_pin, active, volume, enable)


def _build_display(d, machine):
    # type: (dict[str, Any], Machine) -> Screen
    """The ST7789 on ``machine.SPI`` with the screen layout (swcore.screen) on top."""
    from drivers.st7789 import ST7789
    from swcore.screen import Screen
    Pin = machine.Pin
    spi = machine.SPI(d["spi"], baudrate=d["baudrate"], sck=Pin(d["sck"]), mosi=Pin(d["mosi"]))
    rst = Pin(d["rst"], Pin.OUT, value=1) if d.get("rst") is not None else None
    return Screen(ST7789(spi, Pin(d["cs"], Pin.OUT, value=1), Pin(d["dc"], Pin.OUT, value=0), rst,
                         Pin(d["backlight"], Pin.OUT, value=0), d["width"], d["height"],
                         d["x_offset"], d["y_offset"], d["rotation"]))
