"""Board definitions: a bad board.json is rejected with a message naming the field."""
import json

from expect import raises
from swcore import boardspec

GOOD = {
    "id": "t", "name": "Test board", "runtime": "micropython", "port": "rp2", "mcu": "RP2040",
    "buzzer": {"pin": 15}, "motor": {"pin": 14, "active": 1},
    "button": {"pin": 16, "active": 0, "pull": "up"},
    "i2c": {"id": 0, "sda": 4, "scl": 5, "freq": 400000},
    "accel": {"chip": "lis3dh", "address": "0x18", "rate_hz": 50},
    "ble": True,
}


def _with(path, value):
    doc = json.loads(json.dumps(GOOD))
    d = doc
    keys = path.split(".")
    for k in keys[:-1]:
        d = d[k]
    if value is KeyError:
        del d[keys[-1]]
    else:
        d[keys[-1]] = value
    return json.dumps(doc)


def _error(path, value):
    return str(raises(boardspec.BoardError, boardspec.parse, _with(path, value)))


def test_a_good_board_parses_with_defaults_filled_in():
    spec = boardspec.parse(json.dumps(GOOD))
    assert spec["accel"]["address"] == 0x18 and spec["display"] is None
    assert spec["power_hold"] is None and spec["buzzer"]["volume"] == 32768
    assert spec["battery"] is None


def test_each_bad_field_is_named():
    cases = [
        ("accel.chip", "adxl345", "accel.chip"),
        ("accel.address", "24", "accel.address"),
        ("accel.rate_hz", 60, "accel.rate_hz"),
        ("button.pin", "GP16", "button.pin"),
        ("button.active", 2, "button.active"),
        ("button.pull", "none", "button.pull"),
        ("motor.pin", -1, "motor.pin"),
        ("runtime", "arduino", "runtime"),
        ("port", None, "port"),
        ("ble", "yes", "ble"),
        ("i2c.freq", 5, "i2c.freq"),
        ("button", KeyError, "button"),
        ("battery", {"pin": 29}, "battery.ratio"),
        ("battery", {"pin": 29, "ratio": 0.5}, "battery.ratio"),
        ("battery", {"pin": 15, "ratio": 3}, "battery.pin"),        # the buzzer's pin
        ("battery", {"ratio": 3}, "battery.pin"),
    ]
    for path, value, field in cases:
        msg = _error(path, value)
        assert ("board: %s:" % field) in msg, (path, msg)


def test_a_pin_used_twice_names_both_uses():
    msg = _error("motor.pin", 15)
    assert "motor.pin" in msg and "buzzer.pin" in msg, msg


def test_not_json_is_said_so():
    e = raises(boardspec.BoardError, boardspec.parse, '{"id": ')
    assert "not valid JSON" in str(e)
