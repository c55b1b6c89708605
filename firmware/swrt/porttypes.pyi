"""Types for ``make typecheck`` only, never copied to a board (a .pyi file).

The MicroPython runtime layer receives the port's ``machine`` and ``time`` modules as
parameters (tests pass fakes). Its type comments name these protocols, so the checker
holds every call it makes on them to the port's own stubs: a method, argument or
class that the port's ``machine`` lacks fails ``make typecheck``.
"""
from typing import Protocol

import machine as _machine


class Machine(Protocol):
    Pin: type[_machine.Pin]
    I2C: type[_machine.I2C]
    PWM: type[_machine.PWM]
    SPI: type[_machine.SPI]
    ADC: type[_machine.ADC]


class Time(Protocol):
    def ticks_ms(self) -> int: ...
    def ticks_diff(self, ticks1: int, ticks2: int) -> int: ...
