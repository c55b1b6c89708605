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
    ("swrt/ble_cp.py", "sync.frames.write(frame)", "sync.frames.send(frame)",     # _bleio.PacketBuffer
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


def test_each_call_argument_or_module_a_port_lacks_fails_the_check(tree):
    for path, old, new, _boards, _text in MISTAKES:
        if old is not None:
            _edit(tree / "firmware" / path, old, new)
    res = _check(tree, list(CP_BOARDS + MP_BOARDS))
    for path, _old, _new, boards, text in MISTAKES:
        for board in boards:
            ok, report = res[board]
            hits = [ln for ln in report.splitlines() if text in ln and path in ln]
            assert not ok and hits, "%s: %s in %s not reported:\n%s" % (board, text, path, report)


def test_an_argument_machine_i2c_lacks_fails_on_every_micropython_board(tree):
    _edit(tree / "firmware/swrt/mp.py", 'sda=Pin(bus["sda"]), freq=bus["freq"])',
          'sda=Pin(bus["sda"]), frequency=bus["freq"])')
    for board, (ok, text) in _check(tree, list(MP_BOARDS)).items():
        assert not ok and "swrt/mp.py" in text, (board, text)
        assert "frequency" in text or 'No overloads for "__init__"' in text, (board, text)


def test_a_pin_the_board_lacks_fails_on_that_board_only(tree):
    # SPEAKER_ENABLE exists on the Circuit Playground Bluefruit, not on the CLUE.
    path = tree / "boards/clue.json"
    spec = json.loads(path.read_text())
    spec["buzzer"]["enable"] = "SPEAKER_ENABLE"
    path.write_text(json.dumps(spec))
    res = _check(tree, list(CP_BOARDS))
    ok, text = res["clue"]
    assert not ok and "SPEAKER_ENABLE" in text and "buzzer.enable" in text, text
    assert res["circuitplayground-bluefruit"][0], res["circuitplayground-bluefruit"][1]


def test_a_feature_probe_guarded_by_import_error_is_allowed(tree):
    _edit(tree / "firmware/swcore/cues.py", "_QUEUE_MAX = const(6)",
          "try:\n    from time import ticks_ms\nexcept ImportError:\n    ticks_ms = None\n"
          "_QUEUE_MAX = const(6)")
    for board, (ok, text) in _check(tree, list(CP_BOARDS)).items():
        assert ok, (board, text)
