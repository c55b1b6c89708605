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


def test_the_firmware_as_it_is_passes_on_every_board():
    results = typecheck.check()
    checked = [r[0] for r in results]
    assert set(CP_BOARDS) <= set(checked)
    bad = ["%s:\n%s" % (b, text) for b, _f, ok, text in results if not ok]
    assert not bad, "\n".join(bad)


def test_a_method_busio_i2c_lacks_fails(tree):
    _edit(tree / "firmware/swrt/cp.py", "self.i2c.writeto_then_readfrom(addr, self._reg, buf)",
          "self.i2c.readfrom_mem_into(addr, self._reg[0], buf)")
    for board, (ok, text) in _check(tree, list(CP_BOARDS)).items():
        assert not ok and "readfrom_mem_into" in text and "swrt/cp.py" in text, (board, text)


def test_an_argument_pwmio_lacks_fails(tree):
    _edit(tree / "firmware/swrt/cp.py", "variable_frequency=True", "variable_freq=True")
    for board, (ok, text) in _check(tree, list(CP_BOARDS)).items():
        assert not ok and "variable_freq" in text, (board, text)


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


def test_a_module_the_board_build_lacks_fails(tree):
    # circuitpython-stubs has a `wifi` module, but no nRF52840 build includes it.
    _edit(tree / "firmware/swrt/cp.py", "import pwmio\n", "import pwmio\nimport wifi\n")
    for board, (ok, text) in _check(tree, list(CP_BOARDS)).items():
        assert not ok and "wifi" in text, (board, text)


def test_a_pure_module_may_only_use_what_every_port_shares(tree):
    # time.ticks_ms is MicroPython's; CircuitPython has only monotonic/monotonic_ns.
    _edit(tree / "firmware/swcore/cues.py", "_QUEUE_MAX = const(6)",
          "import time\n_QUEUE_MAX = const(6)\n\n\ndef _now():\n    return time.ticks_ms()\n")
    for board, (ok, text) in _check(tree, list(CP_BOARDS)).items():
        assert not ok and "ticks_ms" in text and "swcore/cues.py" in text, (board, text)


def test_a_pure_module_using_monotonic_ns_fails_on_micropython(tree):
    (tree / "boards/pico-probe.json").write_text(json.dumps({
        "id": "pico-probe", "name": "probe", "runtime": "micropython", "port": "rp2",
        "variant": "RPI_PICO_W"}))
    _edit(tree / "firmware/swcore/cues.py", "_QUEUE_MAX = const(6)",
          "import time\n_QUEUE_MAX = const(6)\n\n\ndef _now():\n    return time.monotonic_ns()\n")
    ok, text = _check(tree, ["pico-probe"])["pico-probe"]
    assert not ok and "monotonic_ns" in text, text


def test_a_feature_probe_guarded_by_import_error_is_allowed(tree):
    _edit(tree / "firmware/swcore/cues.py", "_QUEUE_MAX = const(6)",
          "try:\n    from time import ticks_ms\nexcept ImportError:\n    ticks_ms = None\n"
          "_QUEUE_MAX = const(6)")
    for board, (ok, text) in _check(tree, list(CP_BOARDS)).items():
        assert ok, (board, text)


def test_a_micropython_call_in_the_circuitpython_layer_fails(tree):
    # machine.PWM's freq() is not pwmio.PWMOut's API (a frequency property).
    _edit(tree / "firmware/swrt/cp.py", "self.pwm.frequency = tone_hz", "self.pwm.freq(tone_hz)")
    for board, (ok, text) in _check(tree, list(CP_BOARDS)).items():
        assert not ok and "freq" in text, (board, text)


MP_BOARDS = ("pico-w-lis3dh", "esp32-s3-devkitc-bmi160", "m5stickc-plus2")


def test_an_argument_machine_i2c_lacks_fails_on_every_micropython_board(tree):
    _edit(tree / "firmware/swrt/mp.py", 'sda=Pin(bus["sda"]), freq=bus["freq"])',
          'sda=Pin(bus["sda"]), frequency=bus["freq"])')
    for board, (ok, text) in _check(tree, list(MP_BOARDS)).items():
        assert not ok and "swrt/mp.py" in text, (board, text)
        assert "frequency" in text or 'No overloads for "__init__"' in text, (board, text)


def test_a_method_machine_i2c_lacks_fails(tree):
    _edit(tree / "firmware/swrt/mp.py", 'sda=Pin(bus["sda"]), freq=bus["freq"])',
          'sda=Pin(bus["sda"]), freq=bus["freq"])\n            i2c.read_mem(0x18, 0x0F)')
    for board, (ok, text) in _check(tree, list(MP_BOARDS)).items():
        assert not ok and "read_mem" in text, (board, text)


def test_a_circuitpython_call_in_the_micropython_layer_fails(tree):
    _edit(tree / "firmware/swrt/mp.py", "pwm.freq(2000)", "pwm.frequency = 2000")
    for board, (ok, text) in _check(tree, list(MP_BOARDS)).items():
        assert not ok and "frequency" in text, (board, text)
