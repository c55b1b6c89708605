"""The screen, frame by frame: rendered through the ST7789 driver onto a fake panel on the
MicroPython unix port (and on CPython), compared with the golden PNGs in tests/golden/.

The scenes (tests/firmware/screen_scenes.py) are moments of the default session on the
CLUE (240x240) and the M5StickC Plus2 (240x135 on its side). docs/screens/ holds the same
pictures, two pixels a pixel, for the README and docs/screen.md; a test keeps them equal.
After a deliberate change of the screen: ``SPRINTWATCH_UPDATE_GOLDEN=1 pytest
tests/test_screen_golden.py`` rewrites both, then look at them before committing.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from host_tools import firmware

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
DOCS = HERE.parent / "docs" / "screens"
SIZES = {"clue": (240, 240), "m5stickc-plus2": (240, 135)}
SCENES = ("warmup", "setup", "go", "recovery", "sprint", "offer")
UPDATE = os.environ.get("SPRINTWATCH_UPDATE_GOLDEN") == "1"


def to_image(raw, size):
    """RGB565, high byte first -> an RGB image."""
    w, h = size
    assert len(raw) == w * h * 2
    rgb = bytearray(w * h * 3)
    for i in range(w * h):
        v = raw[2 * i] << 8 | raw[2 * i + 1]
        r, g, b = v >> 11, (v >> 5) & 0x3F, v & 0x1F
        rgb[3 * i] = r << 3 | r >> 2
        rgb[3 * i + 1] = g << 2 | g >> 4
        rgb[3 * i + 2] = b << 3 | b >> 2
    return Image.frombytes("RGB", size, bytes(rgb))


def render(runtime, out):
    script = HERE / "firmware" / "render_frames.py"
    if runtime == "micropython":
        cmd = [firmware.micropython_exe(), "-X", "heapsize=4M", str(script), str(out)]
        env = firmware.micropython_env([HERE / "firmware"])
    else:
        cmd = [sys.executable, str(script), str(out)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(firmware.FIRMWARE_DIR), str(HERE / "firmware")]))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=HERE / "firmware")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    out = {}
    for runtime in ("micropython", "cpython"):
        folder = tmp_path_factory.mktemp(runtime)
        render(runtime, folder)
        out[runtime] = {p.stem: p.read_bytes() for p in folder.glob("*.rgb565")}
    return out


@pytest.mark.parametrize("board", sorted(SIZES))
def test_every_scene_matches_its_golden_frame_on_both_runtimes(frames, board):
    for scene in SCENES:
        key = "%s-%s" % (board, scene)
        assert frames["micropython"][key] == frames["cpython"][key], key + ": the runtimes differ"
        image = to_image(frames["micropython"][key], SIZES[board])
        golden = GOLDEN / (key + ".png")
        if UPDATE:
            GOLDEN.mkdir(exist_ok=True)
            image.save(golden)
            DOCS.mkdir(parents=True, exist_ok=True)
            image.resize((image.width * 2, image.height * 2), Image.NEAREST).save(DOCS / (key + ".png"))
        want = Image.open(golden).convert("RGB")
        diff = ImageChops.difference(image, want).getbbox()
        assert diff is None, "%s differs from %s in %s" % (key, golden, diff)
        shown = Image.open(DOCS / (key + ".png")).convert("RGB")
        assert shown.size == (image.width * 2, image.height * 2)
        assert ImageChops.difference(shown.resize(image.size, Image.NEAREST), image).getbbox() is None, \
            "docs/screens/%s.png is stale" % key
