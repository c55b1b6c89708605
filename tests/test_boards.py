"""The board files in boards/: each one valid, each chip has a driver, pins as documented."""
import json
from pathlib import Path

import pytest

from host_tools import firmware  # noqa: F401  (puts firmware/ on sys.path)
from swcore import boardspec

ROOT = Path(__file__).resolve().parent.parent
BOARDS = sorted((ROOT / "boards").glob("*.json"))


def test_the_promised_boards_are_there():
    ids = {p.stem for p in BOARDS}
    assert {"sim", "pico-w-lis3dh", "m5stickc-plus2"} <= ids
    assert any(i.startswith("esp32-") for i in ids)
    assert len(ids - {"sim"}) >= 3


@pytest.mark.parametrize("path", BOARDS, ids=[p.stem for p in BOARDS])
def test_board_file_is_valid_and_its_chip_has_a_driver(path):
    spec = boardspec.parse(path.read_text())
    assert spec["id"] == path.stem
    if spec["runtime"] == "sim":
        return
    chip = spec["accel"]["chip"]
    assert (ROOT / "firmware" / "drivers" / f"{chip}.py").exists()
    driver = __import__(f"drivers.{chip}", fromlist=["ADDRESSES"])
    assert spec["accel"]["address"] in driver.ADDRESSES


def test_m5stickc_plus2_pins_match_its_hardware():
    spec = boardspec.parse((ROOT / "boards" / "m5stickc-plus2.json").read_text())
    assert spec["port"] == "esp32" and spec["mcu"] == "ESP32-PICO-V3-02"
    assert (spec["i2c"]["sda"], spec["i2c"]["scl"]) == (21, 22)
    assert spec["accel"]["chip"] == "mpu6886" and spec["accel"]["address"] == 0x68
    assert spec["buzzer"]["pin"] == 2 and spec["motor"] is None
    assert spec["button"]["pin"] == 37 and spec["button"]["active"] == 0
    assert spec["power_hold"] == {"pin": 4, "level": 1}
    d = spec["display"]
    assert (d["sck"], d["mosi"], d["cs"], d["dc"], d["rst"], d["backlight"]) == (13, 15, 5, 14, 12, 27)


def test_every_board_is_in_the_wiring_doc():
    doc = (ROOT / "docs" / "boards.md").read_text()
    for p in BOARDS:
        assert f"`{p.stem}`" in doc, p.stem
