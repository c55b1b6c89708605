"""Who owns the CIRCUITPY drive: the computer over USB, or the firmware.

The drive is FAT and CircuitPython lets only one side write it: by default the
computer, and code sees it read-only. ``boot()`` (boot.py, at power-on) gives it to
the firmware, so sessions are saved, unless the board's button is held down:
then it stays writable from USB (to copy a plan or new firmware) and sessions are
not saved. ``code.py`` reads the mode back with ``drive_mode()`` and ``announce``
cues it: one high beep = the firmware saves sessions; three low beeps = USB mode,
nothing saved.
"""
import json

import board
import digitalio
import storage

from swcore.cues import CUE_DRIVE_USB, CUE_DRIVE_DEVICE

TYPE_CHECKING = False
if TYPE_CHECKING:                       # make typecheck only
    from typing import Any
    from app import App

USB = "usb"
DEVICE = "device"


def button_held(button):
    # type: (dict[str, Any]) -> bool
    """True when the board file's button is pressed right now (read once, at boot)."""
    pin = getattr(board, button["pin"], None)
    if pin is None:
        return False
    io = digitalio.DigitalInOut(pin)
    try:
        pull = button.get("pull")
        if pull == "up":
            io.switch_to_input(pull=digitalio.Pull.UP)
        elif pull == "down":
            io.switch_to_input(pull=digitalio.Pull.DOWN)
        else:
            io.switch_to_input()
        return io.value == bool(button.get("active", 0))
    finally:
        io.deinit()


def boot(root="/"):
    """boot.py: keep the drive for USB if the button is held, else give it to the firmware."""
    held = False
    try:
        with open(root + "board.json") as f:
            button = json.load(f).get("button")
        held = bool(button) and button_held(button)
    except Exception as e:          # no or bad board file: the firmware still owns the drive
        print("sprintwatch boot: %s" % e)
    if not held:
        storage.remount("/", readonly=False)
    return USB if held else DEVICE


def drive_mode():
    """USB when code cannot write the drive (the computer owns it), else DEVICE."""
    return USB if storage.getmount("/").readonly else DEVICE


def announce(app, mode):
    # type: (App, str) -> None
    """Log and cue the drive's mode, before the session's first cue."""
    app.emit(0, "drive_mode", {"mode": mode, "sessions_saved": mode == DEVICE})
    app.emit(0, "cue", {"pattern": CUE_DRIVE_USB if mode == USB else CUE_DRIVE_DEVICE})
