"""`make typecheck` bites: a call, argument, pin or module a port lacks fails the check.

Each test copies the firmware and boards to a temporary folder, injects one mistake
that every unit test on the unix port would miss, and runs the same check as
``make typecheck`` on the copy.
"""
import json
import shutil
from pathlib import Path

import pytest

from host_tools import typecheck

ROOT = Path(__file__).resolve().parent.parent
CP_BOARDS = ("circuitplayground-bluefruit", "clue")


@pytest.fixture(scope="module", autouse=True)
def stubs():
    typecheck.install_stubs()


@pytest.fixture
def tree(tmp_path):
    shutil.copytree(ROOT / "firmware", tmp_path / "firmware",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "boards", tmp_path / "boards")
    return tmp_path


def _edit(path, old, new):
    text = path.read_text()
    assert old in text, "the injection point moved: %s not in %s" % (old, path)
    path.write_text(text.replace(old, new, 1))


def _check(tree, boards):
    results = typecheck.check(tree / "firmware", tree / "boards", tree / "out", only=boards)
    assert sorted(r[0] for r in results) == sorted(boards)
    return {board: (ok, text) for board, _folder, ok, text in results}


MP_BOARDS = ("pico-w-lis3dh", "esp32-s3-devkitc-bmi160", "m5stickc-plus2")

# (file, original text, injected mistake, boards it must fail, text the failure names)
MISTAKES = (
    ("swrt/cpbus.py", "self.i2c.writeto_then_readfrom(addr, self._reg, buf)",       # busio.I2C method
     "self.i2c.readfrom_mem_into(addr, self._reg[0], buf)", CP_BOARDS, '"readfrom_mem_into"'),
    ("swrt/cp.py", "variable_frequency=True", "variable_freq=True",                # pwmio argument
     CP_BOARDS, '"variable_freq"'),
    ("swrt/cp.py", "self.pwm.frequency = tone_hz", "self.pwm.freq(tone_hz)",       # MicroPython API
     CP_BOARDS, '"freq"'),
    ("swrt/cp.py", "import pwmio\n", "import pwmio\nimport wifi\n",              # not on nRF52840
     CP_BOARDS, '"wifi"'),
    ("swrt/ble_cp.py", "sent = sync.frames.write(piece)", "sent = sync.frames.send(piece)",  # _bleio.PacketBuffer
     CP_BOARDS, '"send"'),
    ("swrt/ble_cp.py", "self.radio.start_advertising(self.advertisement)",        # adafruit_ble
     "self.radio.start_advertising(self.advertisement, interval_s=0.1)", CP_BOARDS, '"interval_s"'),
    ("swrt/mp.py", 'sda=Pin(bus["sda"]), freq=bus["freq"])',                       # machine.I2C method
     'sda=Pin(bus["sda"]), freq=bus["freq"])\n            i2c.read_mem(0x18, 0x0F)',
     MP_BOARDS, '"read_mem"'),
    ("swrt/mp.py", "pwm.freq(2000)", "pwm.frequency = 2000",                       # CircuitPython API
     MP_BOARDS, '"frequency"'),
    ("swrt/ble_mp.py", "ble.gatts_set_buffer(self.rx,", "ble.gatts_set_buf(self.rx,",   # bluetooth
     MP_BOARDS, '"gatts_set_buf"'),
    ("swcore/cues.py", "_QUEUE_MAX = const(6)",                                     # pure core:
     "import time\n_QUEUE_MAX = const(6)\n\n\ndef _now():\n    return time.ticks_ms()\n\n\n"
     "def _ns():\n    return time.monotonic_ns()\n", CP_BOARDS, '"ticks_ms"'),         # MicroPython's
    ("swcore/cues.py", None, None, MP_BOARDS, '"monotonic_ns"'),                     # CircuitPython's
)

ALL_BOARDS = CP_BOARDS + MP_BOARDS
# One wrong call in a method body of every driver and every runtime class that holds a
# port object (the ones above cover swrt.cpbus.I2CMem, swrt.cp.CueOutput, both
# SyncPeripherals). Each is an expression of its own in a different method: an error
# in one changes no type the others see, so checking them in one run per board is
# the same as checking them one at a time, at a fraction of the time.
WRONG_CALLS = (
    ("drivers/sensor.py", "self.i2c.writeto_mem(self.address, reg, self._one)",         # I2CAccel
     "self.i2c.writeto_memory(self.address, reg, self._one)", ALL_BOARDS, '"writeto_memory"'),
    ("drivers/lis3dh.py", "self.i2c.readfrom_mem_into(self.address, _OUT_X_L_AUTO, self._views[n])",
     "self.i2c.readfrom_into_mem(self.address, _OUT_X_L_AUTO, self._views[n])", ALL_BOARDS,
     '"readfrom_into_mem"'),
    ("drivers/mpu6886.py", "self.i2c.readfrom_mem_into(self.address, _FIFO_R_W, self._views[n])",
     "self.i2c.readfrom_mem_intoo(self.address, _FIFO_R_W, self._views[n])", MP_BOARDS,
     '"readfrom_mem_intoo"'),
    ("drivers/bmi160.py", "self.i2c.readfrom_mem_into(self.address, _FIFO_DATA, self._views[n])",
     "self.i2c.readfrom_mem_into(self.address, _FIFO_DATA, self._views[n], addr_size=8)",
     MP_BOARDS, '"addr_size"'),
    ("drivers/lsm6ds.py", "self.i2c.readfrom_mem_into(addr, _FIFO_DATA_OUT_L, self._views[n])",
     "self.i2c.readfrom_mem_into(addr, _FIFO_DATA_OUT_L)", CP_BOARDS, '"buf"'),
    ("drivers/st7789.py", "self.spi.write(command)", "self.spi.send(command)", MP_BOARDS, '"send"'),
    ("swrt/mp.py", "self.pwm.duty_u16(self.volume)", "self.pwm.duty_u17(self.volume)",   # CueOutput
     MP_BOARDS, '"duty_u17"'),
    ("swrt/mp.py", "trigger=trigger, hard=True)", "trigger=trigger, hardd=True)",         # ButtonRing
     MP_BOARDS, '"hardd"'),
    ("swrt/mp.py", "level = self.pin.value()", "level = self.pin.level()", MP_BOARDS, '"level"'),
    ("swrt/mp.py", "        t = self.ticks_ms()\n        self._elapsed",                    # Clock
     "        t = self.ticks_ms(0)\n        self._elapsed", MP_BOARDS, "Expected 0 positional"),
    ("swrt/ble_mp.py", "self.ble.gatts_read(self.rx)", "self.ble.gatts_get(self.rx)",
     MP_BOARDS, '"gatts_get"'),
    ("swrt/cp.py", "return (self._ns() - self._t0)", "return (self._ns(0) - self._t0)",   # Clock
     CP_BOARDS, "Expected 0 positional"),
    ("swrt/cp.py", "while self.keys.events.get_into(ev):", "while self.keys.events.get_nowait(ev):",
     CP_BOARDS, '"get_nowait"'),                                                       # Buttons
    ("swrt/ble_cp.py", "buffer_size=REQUEST_PACKETS)", "buffer_len=REQUEST_PACKETS)",   # SyncService
     CP_BOARDS, '"buffer_len"'),
    ("swrt/cpstorage.py", "io.switch_to_input(pull=digitalio.Pull.UP)",
     "io.switch_to_input(pull=digitalio.Pull.PULL_UP)", CP_BOARDS, '"PULL_UP"'),
)


def test_each_call_argument_or_module_a_port_lacks_fails_the_check(tree):
    for path, old, new, _boards, _text in MISTAKES + WRONG_CALLS:
        if old is not None:
            _edit(tree / "firmware" / path, old, new)
    res = _check(tree, list(CP_BOARDS + MP_BOARDS))
    for path, _old, new, boards, text in MISTAKES + WRONG_CALLS:
        lines = _lines_of(tree / "firmware" / path, new)
        for board in boards:
            ok, report = res[board]
            hits = [ln for ln in report.splitlines() if text in ln and path in ln
                    and (not lines or any(":%d:" % n in ln for n in lines))]
            assert not ok and hits, "%s: %s in %s not reported:\n%s" % (board, text, path, report)


def _lines_of(path, text):
    """The line numbers ``text`` (an injected edit) covers in ``path`` now, or () for None."""
    if text is None:
        return ()
    src = path.read_text()
    start = src[:src.index(text)].count("\n") + 1
    return range(start, start + text.count("\n") + 1)


def test_an_argument_machine_i2c_lacks_or_an_untyped_port_object_fails_every_micropython_board(tree):
    _edit(tree / "firmware/swrt/mp.py", 'sda=Pin(bus["sda"]), freq=bus["freq"])',
          'sda=Pin(bus["sda"]), frequency=bus["freq"])')
    # Without their type comments, the bus of every accelerometer driver and the buzzer's
    # PWM are Unknown to the checker: no call on them would be checked at all.
    _edit(tree / "firmware/drivers/sensor.py", "        # type: (I2C, int, int, int, dict, dict", "        # (")
    _edit(tree / "firmware/swrt/mp.py", "        # type: (PWM | None, Pin | None, int, int, Pin | None) -> None\n", "")
    for board, (ok, text) in _check(tree, list(MP_BOARDS)).items():
        assert not ok and "swrt/mp.py" in text, (board, text)
        assert "frequency" in text or 'No overloads for "__init__"' in text, (board, text)
        unknown = [ln for ln in text.splitlines() if "reportUnknownMemberType" in ln]
        assert any("drivers/lis3dh.py" in ln and '"readfrom_mem_into" is unknown' in ln
                   for ln in unknown), (board, text)
        assert any("swrt/mp.py" in ln and '"duty_u16" is unknown' in ln for ln in unknown), (board, text)


def test_a_pin_the_board_lacks_fails_on_that_board_only_and_a_guarded_feature_probe_passes(tree):
    # SPEAKER_ENABLE exists on the Circuit Playground Bluefruit, not on the CLUE.
    path = tree / "boards/clue.json"
    spec = json.loads(path.read_text())
    spec["buzzer"]["enable"] = "SPEAKER_ENABLE"
    path.write_text(json.dumps(spec))
    # A feature probe (MicroPython's ticks_ms, guarded by ImportError) is allowed.
    _edit(tree / "firmware/swcore/cues.py", "_QUEUE_MAX = const(6)",
          "try:\n    from time import ticks_ms\nexcept ImportError:\n    ticks_ms = None\n"
          "_QUEUE_MAX = const(6)")
    res = _check(tree, list(CP_BOARDS))
    ok, text = res["clue"]
    assert not ok and "SPEAKER_ENABLE" in text and "buzzer.enable" in text, text
    assert "cues.py" not in text, text
    assert res["circuitplayground-bluefruit"][0], res["circuitplayground-bluefruit"][1]


def test_every_board_passes_against_its_ports_stubs():
    """What `make typecheck` checks, as a test, so `make test` runs it beside the others
    on the xdist workers instead of alone before them."""
    results = typecheck.check()
    assert {r[0] for r in results} >= set(CP_BOARDS + MP_BOARDS)
    failures = ["%s against %s stubs:\n%s" % (board, folder, text) for board, folder, ok, text in results if not ok]
    assert not failures, "\n".join(failures)
