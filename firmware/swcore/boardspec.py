"""Board definitions (``boards/*.json``, copied to a device as ``board.json``): parse and check.

Pure: no hardware imports, so the host checks the same files the device reads. The
format is described in docs/boards.md. A bad file raises ``BoardError`` naming the
field and what is wrong with it; the device then runs button-only and says why.
"""
import json

RUNTIMES = ("micropython", "circuitpython", "sim")
PORTS = ("rp2", "esp32", "nrf", "unix")
CHIPS = ("lis3dh", "mpu6886", "bmi160", "lsm6ds")      # one driver each in drivers/
SIM_CHIP = "trace"                              # the simulated board replays a trace
RATES = (25, 50, 100)
DISPLAYS = ("st7789",)
PULLS = ("up", "down", None)


class BoardError(ValueError):
    pass


def _fail(field, why):
    raise BoardError("board: %s: %s" % (field, why))


def _get(d, key, field, kinds, required=True, default=None):
    if key not in d or d[key] is None:
        if required:
            _fail(field + key, "missing")
        return default
    v = d[key]
    if type(v) not in kinds:
        _fail(field + key, "wrong type (%s)" % type(v).__name__)
    return v


def _pin(d, key, field, spec, required=True):
    v = d.get(key) if isinstance(d, dict) else None
    if v is None:
        if required:
            _fail(field + key, "missing")
        return None
    if type(v) is int and v >= 0:
        return v
    if type(v) is str and spec["runtime"] == "circuitpython" and v:
        return v                                # CircuitPython board pin name
    _fail(field + key, "must be a GPIO number, got %s" % json.dumps(v))


def _level(d, key, field, default):
    v = d.get(key, default)
    if v not in (0, 1) or type(v) is bool:
        _fail(field + key, "must be 0 or 1, got %s" % json.dumps(v))
    return v


def _section(spec, key):
    v = spec.get(key)
    if v is not None and not isinstance(v, dict):
        _fail(key, "must be an object or null")
    return v


def parse(text):
    """Return the board as a dict with every optional part present (None when absent)."""
    try:
        spec = json.loads(text)
    except ValueError as e:
        raise BoardError("board: not valid JSON (%s)" % e)
    if not isinstance(spec, dict):
        _fail("(top)", "must be a JSON object")
    for key in ("id", "name", "runtime"):
        _get(spec, key, "", (str,))
    if spec["runtime"] not in RUNTIMES:
        _fail("runtime", "must be one of %s, got %s" % (", ".join(RUNTIMES), json.dumps(spec["runtime"])))
    sim = spec["runtime"] == "sim"
    port = spec.get("port")
    if not sim and port not in PORTS:
        _fail("port", "must be one of %s, got %s" % (", ".join(PORTS), json.dumps(port)))
    spec["port"] = port
    spec["mcu"] = _get(spec, "mcu", "", (str,), required=not sim)
    spec["variant"] = _get(spec, "variant", "", (str,), required=False)
    spec["ble"] = _get(spec, "ble", "", (bool,))

    used = {}

    def claim(pin, what):
        if pin is None:
            return
        if pin in used:
            _fail(what, "pin %s is already used by %s" % (pin, used[pin]))
        used[pin] = what

    buzzer = _section(spec, "buzzer")
    if buzzer is not None:
        claim(_pin(buzzer, "pin", "buzzer.", spec), "buzzer.pin")
        buzzer["enable"] = _pin(buzzer, "enable", "buzzer.", spec, required=False)
        claim(buzzer["enable"], "buzzer.enable")
        buzzer["volume"] = _get(buzzer, "volume", "buzzer.", (int,), required=False, default=32768)
        if not 0 < buzzer["volume"] <= 32768:
            _fail("buzzer.volume", "must be 1..32768 (PWM duty_u16)")
    motor = _section(spec, "motor")
    if motor is not None:
        claim(_pin(motor, "pin", "motor.", spec), "motor.pin")
        motor["active"] = _level(motor, "active", "motor.", 1)
    button = _section(spec, "button")
    if button is not None:
        claim(_pin(button, "pin", "button.", spec), "button.pin")
        button["active"] = _level(button, "active", "button.", 0)
        button["pull"] = button.get("pull")
        if button["pull"] not in PULLS:
            _fail("button.pull", "must be \"up\", \"down\" or null, got %s" % json.dumps(button["pull"]))
    if not sim and button is None:
        _fail("button", "missing: every board needs its button")

    i2c = _section(spec, "i2c")
    if i2c is not None:
        _get(i2c, "id", "i2c.", (int,))
        claim(_pin(i2c, "sda", "i2c.", spec), "i2c.sda")
        claim(_pin(i2c, "scl", "i2c.", spec), "i2c.scl")
        i2c["freq"] = _get(i2c, "freq", "i2c.", (int,), required=False, default=400000)
        if not 10000 <= i2c["freq"] <= 1000000:
            _fail("i2c.freq", "must be 10000..1000000 Hz, got %d" % i2c["freq"])

    accel = _section(spec, "accel")
    if accel is not None:
        chip = _get(accel, "chip", "accel.", (str,))
        chips = (SIM_CHIP,) if sim else CHIPS
        if chip not in chips:
            _fail("accel.chip", "must be one of %s, got %s" % (", ".join(chips), json.dumps(chip)))
        accel["rate_hz"] = _get(accel, "rate_hz", "accel.", (int,), required=False, default=50)
        if accel["rate_hz"] not in RATES:
            _fail("accel.rate_hz", "must be one of %s, got %d" % (RATES, accel["rate_hz"]))
        if not sim:
            if i2c is None:
                _fail("i2c", "missing: the accelerometer needs an I2C bus")
            addr = accel.get("address")
            if type(addr) is str and addr.startswith("0x"):
                try:
                    addr = int(addr, 16)
                except ValueError:
                    pass
            if type(addr) is not int or not 0x08 <= addr <= 0x77:
                _fail("accel.address", "must be a 7-bit I2C address like \"0x18\", got %s"
                      % json.dumps(accel.get("address")))
            accel["address"] = addr

    display = _section(spec, "display")
    if display is not None:
        if display.get("chip") not in DISPLAYS:
            _fail("display.chip", "must be one of %s, got %s" % (", ".join(DISPLAYS), json.dumps(display.get("chip"))))
        for key in ("width", "height", "spi"):
            _get(display, key, "display.", (int,))
        for key in ("sck", "mosi", "cs", "dc", "rst", "backlight"):
            claim(_pin(display, key, "display.", spec, required=key != "rst"), "display." + key)
        for key in ("x_offset", "y_offset", "rotation"):
            display[key] = _get(display, key, "display.", (int,), required=False, default=0)
        display["baudrate"] = _get(display, "baudrate", "display.", (int,), required=False, default=20000000)

    hold = _section(spec, "power_hold")
    if hold is not None:
        claim(_pin(hold, "pin", "power_hold.", spec), "power_hold.pin")
        hold["level"] = _level(hold, "level", "power_hold.", 1)

    battery = _section(spec, "battery")
    if battery is not None:
        claim(_pin(battery, "pin", "battery.", spec), "battery.pin")
        ratio = _get(battery, "ratio", "battery.", (int, float))
        if ratio is None or not 1 <= ratio <= 10:
            _fail("battery.ratio", "must be 1..10 (the voltage divider before the ADC), got %s"
                  % json.dumps(ratio))
        battery["select"] = _pin(battery, "select", "battery.", spec, required=False)
        claim(battery["select"], "battery.select")
        battery["alt"] = _get(battery, "alt", "battery.", (int,), required=False)

    for key in ("buzzer", "motor", "button", "i2c", "accel", "display", "power_hold", "battery"):
        spec[key] = spec.get(key)
    return spec
