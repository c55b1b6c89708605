"""Stand-ins for the ``machine`` and ``time`` modules, for the runtime-layer tests.

The MicroPython unix port has no Pin, PWM, I2C or SPI; these record what the
firmware does with them and let a test press the button (``pin.drive(level)`` runs
the IRQ handler like a real edge). ``FakeTime`` counts ticks the way the ports do,
wrapping every 2**30 ms, so tests can start a clock right before the wrap.
"""
from fake_i2c import FakeBus

PERIOD = 1 << 30
HALF = 1 << 29


class FakeTime:
    def __init__(self, start=0):
        self.t = start

    def ticks_ms(self):
        return self.t % PERIOD

    def ticks_diff(self, a, b):
        d = (a - b) % PERIOD
        return d - PERIOD if d >= HALF else d

    def advance(self, ms):
        self.t += ms


class RealTicks:
    """time.ticks_ms/ticks_diff on MicroPython; the same from time.monotonic on CPython."""

    def __init__(self):
        import time
        self.time = time

    def ticks_ms(self):
        t = self.time
        if hasattr(t, "ticks_ms"):
            return t.ticks_ms()
        return int(t.monotonic() * 1000) % PERIOD

    def ticks_diff(self, a, b):
        d = (a - b) % PERIOD
        return d - PERIOD if d >= HALF else d


class FakePin:
    IN = 0
    OUT = 1
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 4
    IRQ_RISING = 8
    machine = None

    ALT = 3

    def __init__(self, id, mode=-1, pull=-1, value=None, alt=None):
        m = self.machine
        if id not in m.valid_pins:
            raise ValueError("invalid pin %s" % id)
        self.id = id
        self.mode = mode
        self.pull = pull
        self.level = 1 if pull == self.PULL_UP else 0
        if id in m.levels:                   # an input the test wired up
            self.level = m.levels[id]
        if value is not None:
            self.level = value
        self.handler = None
        self.trigger = 0
        m.pins[id] = self

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = 1 if v else 0
        self.machine.log.append((self.machine.time.t, "pin", self.id, self.level))

    def irq(self, handler=None, trigger=0, hard=False):
        self.handler = handler
        self.trigger = trigger
        self.hard = hard

    def drive(self, level, irq=True):
        """The outside world changes the pin (a finger on the button); ``irq=False``
        loses the interrupt, as a full IRQ queue would."""
        if level != self.level:
            self.level = level
            if self.handler is not None and irq:
                self.handler(self)


class FakePWM:
    machine = None

    def __init__(self, pin, freq=None, duty_u16=None):
        self.pin = pin
        self.f = 0
        self.d = 0
        self.machine.pwms[pin.id] = self

    def freq(self, f=None):
        if f is None:
            return self.f
        self.f = f
        self.machine.log.append((self.machine.time.t, "freq", self.pin.id, f))

    def duty_u16(self, d=None):
        if d is None:
            return self.d
        self.d = d
        self.machine.log.append((self.machine.time.t, "duty", self.pin.id, d))


class FakeSPI:
    machine = None

    def __init__(self, id, baudrate=0, sck=None, mosi=None, miso=None):
        self.id = id
        self.written = []
        self.machine.spis.append(self)

    def write(self, buf):
        self.written.append(bytes(buf))


class FakeADC:
    """An ADC on a pin whose voltage the test sets (``machine.adc_mv[pin]``, mV at the pin)."""
    ATTN_11DB = 3
    machine = None

    def __init__(self, pin, atten=None):
        self.pin = pin.id
        self.atten = atten
        self.machine.adc_reads.append((self.pin, pin.mode, atten))

    def read_u16(self):                       # rp2: 0..65535 over 0..3.3 V
        return min(65535, self.machine.adc_mv.get(self.pin, 0) * 65535 // 3300)


class FakeADCuv(FakeADC):
    def read_uv(self):                        # esp32: calibrated microvolts
        return self.machine.adc_mv.get(self.pin, 0) * 1000


class FakeMachine:
    def __init__(self, time, devices=(), valid_pins=range(49), levels=None, i2c_ids=(0, 1),
                 adc_mv=None, adc_uv=False):
        self.time = time
        self.valid_pins = valid_pins
        self.levels = levels or {}
        self.i2c_ids = i2c_ids
        self.pins = {}
        self.pwms = {}
        self.spis = []
        self.log = []
        self.bus = FakeBus(*devices)
        self.i2c_args = None
        m = self

        class Pin(FakePin):
            machine = m

        class PWM(FakePWM):
            machine = m

        class SPI(FakeSPI):
            machine = m

        class ADC(FakeADCuv if adc_uv else FakeADC):
            machine = m

        self.Pin = Pin
        self.PWM = PWM
        self.SPI = SPI
        self.ADC = ADC
        self.adc_mv = adc_mv or {}
        self.adc_reads = []

    def I2C(self, id, scl=None, sda=None, freq=400000):
        if id not in self.i2c_ids:
            raise ValueError("I2C(%s) doesn't exist" % id)
        self.i2c_args = (id, scl.id, sda.id, freq)
        return self.bus

    def tones(self, pin):
        """(t, hz) each time the buzzer on ``pin`` starts or stops sounding."""
        out = []
        freq = 0
        for t, what, p, v in self.log:
            if p != pin:
                continue
            if what == "freq":
                freq = v
            elif what == "duty":
                out.append((t, freq if v else 0))
        return out
