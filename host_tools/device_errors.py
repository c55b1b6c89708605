"""What can go wrong talking to a board: light to import (no serial, no mpremote), so
``sprintwatch`` parsers and the CIRCUITPY flash can name these without loading the link."""


class DeviceError(Exception):
    """Something the user must fix (no port, not MicroPython, a device-side error)."""


class LinkLost(DeviceError):
    """The line dropped mid-way (cable pulled, board reset)."""
