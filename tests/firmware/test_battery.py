"""Battery level: a LiPo's voltage to its charge, the low-battery cue, the log record."""
import json

from expect import Collector
from fake_i2c import FakeLIS3DH, FakeMPU6886
from fake_machine import FakeMachine, FakeTime
from app import App, load_plan
from swcore import battery, boardspec, logformat
from swrt import mp
from swrt.runner import Runner

HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
PLAN = {"name": "Short", "sets": [{"name": "S", "steps": [
    {"name": "Warm", "kind": "timed", "duration_s": 2}]}]}


def test_the_charge_follows_the_lipo_curve_and_is_bounded():
    assert battery.percent(4250) == 100 and battery.percent(4200) == 100
    assert battery.percent(3000) == 0 and battery.percent(-5) == 0
    assert 45 <= battery.percent(3800) <= 50
    last = 101
    for mv in range(4200, 3200, -25):                # falls as the voltage falls
        p = battery.percent(mv)
        assert 0 <= p <= last, (mv, p)
        last = p


def test_low_only_for_a_real_cell_that_is_nearly_empty():
    assert battery.is_low(3550) and battery.is_low(3300)
    assert not battery.is_low(3800)
    assert not battery.is_low(4800)                  # on USB: VSYS is not the cell
    assert not battery.is_low(0)                     # nothing measured: no false alarm
    assert battery.record(0) == {"battery_mv": 0, "no_cell": True}
    assert battery.record(4800)["external"] is True
    assert battery.level(None) is None and battery.level(0) is None and battery.level(3800) == 48


def test_the_battery_record_round_trips_the_session_log():
    f = battery.record(3712)
    data = logformat.encode_header(1, 1, "P", 0, "0.1.0", None) + logformat.encode_record(5, "battery", f)
    header, records, problems = logformat.read_session(data)
    assert problems == [] and records == [(5, "battery", f)]


def _board(name):
    with open(HERE + "/../../boards/%s.json" % name) as f:
        return boardspec.parse(f.read())


def _session(board_name, machine, time):
    parts = mp.build(_board(board_name), machine, time)
    name, steps, _t, err = load_plan(lambda: json.dumps(PLAN))
    events = Collector()
    app = App(parts, name, steps, [events])
    runner = Runner(app, parts, err)
    runner.start(0)
    return parts, events


def test_a_low_pico_w_cell_is_logged_and_cued_before_the_session_starts():
    time = FakeTime(0)
    m = FakeMachine(time, devices=[FakeLIS3DH(0x18)], adc_mv={29: 3550 // 3})   # VSYS 3.55 V
    parts, events = _session("pico-w-lis3dh", m, time)
    rec = events.of("battery")
    assert len(rec) == 1 and 3530 <= rec[0][2]["battery_mv"] <= 3550, rec
    assert rec[0][2]["battery_pct"] <= battery.LOW_PCT
    cues = [f["pattern"] for _t, e, f in events.events if e == "cue"]
    assert cues[0] == "battery_low" and "step_start" in cues[1:], cues
    order = [e for _t, e, _f in events.events]
    assert order.index("battery") < order.index("step_start")
    # the wireless chip was deselected (GPIO25 high) and GPIO29 handed back to it
    assert m.pins[25].level == 1 and m.pins[29].mode == m.Pin.ALT
    assert m.adc_reads == [(29, m.Pin.IN, None)]


def test_a_charged_m5stickc_cell_is_logged_without_a_cue():
    time = FakeTime(0)
    m = FakeMachine(time, devices=[FakeMPU6886(0x68)], adc_mv={38: 1950}, adc_uv=True)
    parts, events = _session("m5stickc-plus2", m, time)
    rec = events.of("battery")[0][2]
    assert rec == {"battery_mv": 3900, "battery_pct": 64}, rec
    assert m.adc_reads == [(38, -1, m.ADC.ATTN_11DB)]      # full-range attenuation
    assert "battery_low" not in [f["pattern"] for _t, e, f in events.events if e == "cue"]


def test_boards_without_a_sense_pin_log_no_battery_record():
    time = FakeTime(0)
    m = FakeMachine(time)
    spec = _board("esp32-s3-devkitc-bmi160")
    assert spec["battery"] is None
    parts = mp.build(spec, m, time)
    assert parts.battery_mv is None
