"""The port objects the drivers are handed, for ``make typecheck`` only (never on a board).

The drivers name these in type comments, so basedpyright holds every call a driver
makes on its bus and pins to the stubs of the board's own port: on MicroPython the
classes of ``machine`` itself; on CircuitPython ``swrt.cpbus.I2CMem`` (the adapter over
``busio.I2C``, itself checked against ``busio``) and, for a display, what a CircuitPython
adapter must offer. ``CIRCUITPYTHON`` is set per board by ``host_tools/typecheck.py``
(basedpyright's ``defineConstant``).
"""
from typing import Callable, Protocol

CIRCUITPYTHON: bool

DelayMs = Callable[[int], None]

if CIRCUITPYTHON:
    from swrt.cpbus import I2CMem

    I2C = I2CMem

    class SPI(Protocol):
        def write(self, buf: bytes | bytearray | memoryview, /) -> object: ...

    class Pin(Protocol):
        def value(self, x: int, /) -> None: ...
else:
    from machine import I2C as I2C
    from machine import Pin as Pin
    from machine import SPI as SPI
