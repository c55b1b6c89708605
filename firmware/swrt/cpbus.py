"""CircuitPython: ``busio.I2C`` with the ``machine.I2C`` memory calls the drivers use.

A module of its own (``swrt.cp`` imports it) so that ``drivers/bus.pyi`` can name
``I2CMem`` as the drivers' bus on CircuitPython without an import cycle.
"""
import busio


class I2CMem:
    """The three ``machine.I2C`` memory calls the drivers use, over ``busio.I2C``.

    ``readfrom_mem_into`` (the per-batch FIFO read) allocates nothing: the register
    address goes out of a preallocated one-byte buffer.
    """

    def __init__(self, i2c):
        # type: (busio.I2C) -> None
        self.i2c = i2c
        self._reg = bytearray(1)

    def _lock(self):
        while not self.i2c.try_lock():
            pass

    def readfrom_mem_into(self, addr, memaddr, buf):
        self._reg[0] = memaddr
        self._lock()
        try:
            self.i2c.writeto_then_readfrom(addr, self._reg, buf)
        finally:
            self.i2c.unlock()

    def readfrom_mem(self, addr, memaddr, nbytes):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf):
        out = bytearray(len(buf) + 1)
        out[0] = memaddr
        out[1:] = buf
        self._lock()
        try:
            self.i2c.writeto(addr, out)
        finally:
            self.i2c.unlock()
