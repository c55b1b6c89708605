"""The CircuitPython runtime layer (swrt/cp.py) runs the default session on CPython.

Fake ``board`` (the real board's pin names), ``busio`` (emulated accelerometer),
``digitalio``, ``keypad``, ``pwmio`` and ``storage`` modules, and asyncio on a
virtual clock: the same app, engine, cues and runner as on MicroPython, checked
against the simulated board given the same taps.
"""
import asyncio
import importlib
import json
import shutil
import sys
from pathlib import Path

import pytest

from host_tools import firmware  # noqa: F401  (firmware/ on sys.path)
from host_tools.sim import DEMO_TAPS
from cpfakes import VirtualClock, VirtualTimeLoop, ChipFeeder, make_modules
from fake_i2c import FakeLIS3DH
from fake_lsm6ds import FakeLSM6DS

ROOT = Path(__file__).resolve().parent.parent
PRESSES = [(int(float(s) * 1000), 120) for s in DEMO_TAPS.split(",")]
# A still runner with one digit of noise, so the stuck-sensor check stays quiet.
STILL = [((k % 3 - 1) * 16, 0, 1000) for k in range(3)]
LIMIT_S = 3 * 3600          # virtual: a session that never ends fails, not hangs
BOARDS = {
    "circuitplayground-bluefruit": (FakeLIS3DH, 0x19, 50),
    "clue": (FakeLSM6DS, 0x6A, 52),
}


@pytest.fixture(scope="module", autouse=True)
def stubs():
    from host_tools import typecheck
    typecheck.install_stubs(["circuitpython"])     # the fake board's pin list


class Device:
    """A CircuitPython board in a test: fake port modules, a drive folder, swrt.cp."""

    def __init__(self, tmp_path, monkeypatch, board_id, presses=(), levels=None):
        spec = json.loads((ROOT / "boards" / (board_id + ".json")).read_text())
        chip_cls, addr, chip_hz = BOARDS[board_id]
        self.clock = VirtualClock()
        self.chip = chip_cls(addr)
        feeder = ChipFeeder(self.chip, self.clock, STILL, chip_hz)
        mods, self.rec = make_modules(self.clock, spec["variant"], [self.chip], [feeder],
                                      presses, levels)
        for name, mod in mods.items():
            monkeypatch.setitem(sys.modules, name, mod)
        self.storage = mods["storage"]
        for name in ("swrt.cp", "swrt.cpstorage"):
            monkeypatch.delitem(sys.modules, name, raising=False)
        self.cp = importlib.import_module("swrt.cp")
        self.cpstorage = importlib.import_module("swrt.cpstorage")
        self.drive = tmp_path / "CIRCUITPY"
        self.drive.mkdir()
        shutil.copyfile(ROOT / "boards" / (board_id + ".json"), self.drive / "board.json")
        self.events = []

    def sink(self, t, event, fields):
        self.events.append(dict(fields, t_ms=t, event=event))

    def run_session(self):
        runner = self.cp.prepare(str(self.drive) + "/", [self.sink],
                                 clock=self.cp.Clock(self.clock.monotonic_ns))
        self.cpstorage.announce(runner.app, self.cpstorage.drive_mode())
        loop = VirtualTimeLoop(self.clock)
        try:
            loop.run_until_complete(asyncio.wait_for(runner.main(), LIMIT_S))
        finally:
            loop.close()
        return runner


def _sim_events(tmp_path):
    from swrt import sim
    out = tmp_path / "sim"
    out.mkdir()
    sim.run({"out": str(out), "presses": PRESSES})
    return [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("board_id", sorted(BOARDS))
def test_default_session_runs_as_on_the_simulated_board(tmp_path, monkeypatch, board_id):
    dev = Device(tmp_path, monkeypatch, board_id, PRESSES)
    runner = dev.run_session()
    assert runner.app.engine.done
    faults = [e for e in dev.events if e["event"].endswith("_fault") or e["event"] == "button_only"]
    assert not faults, faults                                  # sensor read all session long
    want = [(e["step"], e["t_ms"]) for e in _sim_events(tmp_path) if e["event"] == "step_start"]
    got = [(e["step"], e["t_ms"]) for e in dev.events if e["event"] == "step_start"]
    assert [s for s, _ in got] == [s for s, _ in want]
    for (step, t_got), (_s, t_want) in zip(got, want):
        assert abs(t_got - t_want) <= 20, (step, t_got, t_want)   # one 10 ms service period
    assert sum(1 for e in dev.events if e["event"] == "sprint_go") == 6
    # every cue reached the speaker
    tones = [hz for _t, hz in dev.rec.of("tone")]
    cues = [e for e in dev.events if e["event"] == "cue"]
    assert len([hz for hz in tones if hz]) >= len(cues) > 20
    assert tones[-1] == 0                                      # silent at the end
    # the session file on the drive reads back with the host's decoder
    from swcore import logformat
    files = sorted((dev.drive / "log").glob("*"))
    data = [f.read_bytes() for f in files if f.suffix not in (".json", ".tmp", ".new")]
    decoded = [logformat.read_session(d) for d in data]
    sessions = [(h, recs) for h, recs, problems in decoded if h is not None and not problems]
    assert len(sessions) == 1, [f.name for f in files]
    recs = sessions[0][1]
    events = [r["event"] if isinstance(r, dict) else r[1] for r in recs]
    assert events.count("rep") == 6 and "session_end" in events, events


def test_the_clue_takes_its_screen_over_from_displayio_and_draws_on_it(tmp_path, monkeypatch):
    dev = Device(tmp_path, monkeypatch, "clue", PRESSES[:1])
    runner = dev.cp.prepare(str(dev.drive) + "/", [dev.sink], clock=dev.cp.Clock(dev.clock.monotonic_ns))
    assert not [f for f in runner.parts.faults if f[0] == "display_fault"], runner.parts.faults
    assert dev.rec.of("release_displays")                   # board.DISPLAY let go first
    screen = runner.parts.display
    assert hasattr(screen, "tick") and (screen.d.width, screen.d.height) == (240, 240)
    spi = dev.rec.spi
    assert spi.baudrate == 24000000
    runner.start(0)
    runner.service(1000)
    assert {b"\x2a", b"\x2b", b"\x2c"} <= spi.commands     # windows and pixels went out
    assert any(b"\xff\xff" in band for band in spi.bands)  # the step name, white on black
    assert screen.shown_secs == 599                          # Easy Jog: 9:59 left


def test_circuit_playground_speaker_is_enabled_only_while_a_tone_plays(tmp_path, monkeypatch):
    dev = Device(tmp_path, monkeypatch, "circuitplayground-bluefruit", PRESSES[:1])
    runner = dev.cp.prepare(str(dev.drive) + "/", [dev.sink], clock=dev.cp.Clock(dev.clock.monotonic_ns))
    out = runner.parts.output
    out.apply(0, 2000, 1)
    assert dev.rec.of("SPEAKER_ENABLE")[-1][1] is True and dev.rec.of("tone")[-1][1] == 2000
    out.apply(100, 0, 0)
    assert dev.rec.of("SPEAKER_ENABLE")[-1][1] is False and dev.rec.of("tone")[-1][1] == 0


def test_a_board_file_naming_a_missing_pin_still_runs_button_only(tmp_path, monkeypatch):
    dev = Device(tmp_path, monkeypatch, "clue", PRESSES)
    spec = json.loads((dev.drive / "board.json").read_text())
    spec["i2c"]["sda"] = "ACCELEROMETER_SDA"               # a CPB pin; the CLUE has none
    (dev.drive / "board.json").write_text(json.dumps(spec))
    runner = dev.run_session()
    assert runner.app.engine.done
    faults = [e for e in dev.events if e["event"] == "sensor_fault"]
    assert faults and "ACCELEROMETER_SDA" in faults[0]["error"], faults


@pytest.mark.parametrize("held, mode", [(False, "device"), (True, "usb")])
def test_boot_gives_the_drive_to_the_firmware_unless_the_button_is_held(
        tmp_path, monkeypatch, held, mode):
    # CPB buttons read high when pressed (pull-down)
    dev = Device(tmp_path, monkeypatch, "circuitplayground-bluefruit",
                 levels={"BUTTON_A": held})
    assert dev.cpstorage.boot(str(dev.drive) + "/") == mode
    assert dev.storage.readonly is held                        # firmware writes unless held
    assert dev.cpstorage.drive_mode() == mode
    runner = dev.cp.prepare(str(dev.drive) + "/", [dev.sink], clock=dev.cp.Clock(dev.clock.monotonic_ns),
                            save_sessions=dev.cpstorage.drive_mode() == "device")
    dev.cpstorage.announce(runner.app, dev.cpstorage.drive_mode())
    runner.app.service(0)
    assert any((dev.drive / "log").glob("*")) is (not held)   # a session file only when saving
    first = [e for e in dev.events if e["event"] == "cue"][0]
    assert first["pattern"] == ("drive_usb" if held else "drive_device")
    assert [e for e in dev.events if e["event"] == "drive_mode"][0]["sessions_saved"] is (not held)


def test_a_session_cut_by_a_power_loss_goes_on_after_a_tap_at_the_next_boot(tmp_path, monkeypatch):
    dev = Device(tmp_path, monkeypatch, "clue", [(701500, 120)])   # the tap answering "go on?"
    runner = dev.cp.prepare(str(dev.drive) + "/", [dev.sink], clock=dev.cp.Clock(dev.clock.monotonic_ns))
    loop = VirtualTimeLoop(dev.clock)
    with pytest.raises(asyncio.TimeoutError):                 # the battery dies at 11:40
        loop.run_until_complete(asyncio.wait_for(runner.main(), 700))
    assert not runner.app.engine.done
    files = sorted((dev.drive / "log").glob("*"))
    # power comes back at 11:40 (virtual): same drive, a fresh CircuitPython
    again = dev.cp.prepare(str(dev.drive) + "/", [dev.sink], clock=dev.cp.Clock(dev.clock.monotonic_ns))
    offer = again.resume_offer
    assert offer is not None and offer.point["t_ms"] >= 600000, "the cut session is offered"
    with pytest.raises(asyncio.TimeoutError):
        loop.run_until_complete(asyncio.wait_for(again.main(), 60))
    loop.close()
    assert again.clock.now() > offer.point["t_ms"] + 50000, "session time goes on from the cut"
    assert sorted((dev.drive / "log").glob("*")) == files, "the same session file, no new one"
