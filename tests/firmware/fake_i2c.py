"""An emulated I2C bus with emulated accelerometers, for the driver and runtime tests.

``FakeBus`` has the three ``machine.I2C`` calls the drivers use. A missing address
raises ``OSError(ENODEV)`` like a bus with no ACK; ``bus.fail_from(addr, k)`` makes
the k-th and later transfers to a device fail the same way (a loose wire mid-session).

Each fake chip keeps a 128-register map and a FIFO. Tests ``push(ax, ay, az)``
milli-g samples (from a trace); the chip encodes them with the range and layout the
driver configured, and only while the driver has really enabled the FIFO and
woken the chip, so a driver that forgets a register gets wrong or no data. Reads
allocate nothing (the FIFO is a preallocated byte ring), so drivers can be run
under ``micropython.heap_lock()``.
"""
import errno


class FakeBus:
    def __init__(self, *devices):
        self.devices = {}
        for d in devices:
            self.devices[d.address] = d
        self.transfers = 0
        self._fail = {}

    def fail_from(self, address, k=0):
        self._fail[address] = self.transfers + k

    def _dev(self, addr):
        self.transfers += 1
        d = self.devices.get(addr)
        if d is None:
            raise OSError(errno.ENODEV)
        at = self._fail.get(addr)
        if at is not None and self.transfers > at:
            raise OSError(errno.EIO)
        return d

    def readfrom_mem_into(self, addr, memaddr, buf):
        d = self._dev(addr)
        for i in range(len(buf)):
            buf[i] = d.read_reg(memaddr, i)

    def readfrom_mem(self, addr, memaddr, nbytes):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf):
        d = self._dev(addr)
        for i in range(len(buf)):
            d.write_reg(memaddr + i, buf[i])


class FakeChip:
    """Register file plus a byte FIFO ring; subclasses define the chip's rules."""
    record = 6
    fifo_bytes = 1024

    def __init__(self, address):
        self.address = address
        self.regs = bytearray(128)
        self.ring = bytearray(self.fifo_bytes + 64)
        self.head = 0       # next byte to read
        self.count = 0      # bytes in the FIFO
        self.overflowed = False
        self.writes = []
        self.reset()

    def reset(self):
        for i in range(len(self.regs)):
            self.regs[i] = 0
        self.flush()

    def flush(self):
        self.head = 0
        self.count = 0
        self.overflowed = False

    def _put(self, byte):
        n = len(self.ring)
        if self.count >= self.fifo_bytes:
            self.overflowed = True
            self.head = (self.head + 1) % n      # oldest byte lost
            self.count -= 1
        self.ring[(self.head + self.count) % n] = byte & 0xFF
        self.count += 1

    def _pop(self):
        if self.count == 0:
            return 0
        b = self.ring[self.head]
        self.head = (self.head + 1) % len(self.ring)
        self.count -= 1
        return b

    def write_reg(self, reg, value):
        self.writes.append((reg, value))
        self.regs[reg] = value

    def read_reg(self, reg, i):
        return self.regs[(reg + i) & 0x7F]

    def push_many(self, rows):
        for r in rows:
            self.push(r[0], r[1], r[2])

    @staticmethod
    def _raw(mg, lsb_per_g):
        v = (mg * lsb_per_g) // 1000
        if v > 32767:
            v = 32767
        if v < -32768:
            v = -32768
        return v & 0xFFFF


class FakeLIS3DH(FakeChip):
    record = 6
    fifo_bytes = 32 * 6
    WHO_AM_I = 0x33

    def reset(self):
        FakeChip.reset(self)
        self.regs[0x0F] = self.WHO_AM_I
        self.regs[0x20] = 0x07

    def rate_hz(self):
        odr = self.regs[0x20] >> 4
        return (0, 1, 10, 25, 50, 100, 200, 400)[odr] if odr < 8 else -1

    def range_g(self):
        return (2, 4, 8, 16)[(self.regs[0x23] >> 4) & 3]

    def write_reg(self, reg, value):
        FakeChip.write_reg(self, reg, value)
        if reg == 0x24 and value & 0x80:
            self.reset()
        if reg == 0x2E and value >> 6 == 0:
            self.flush()                            # bypass mode empties the FIFO

    def streaming(self):
        return (self.regs[0x24] & 0x40) and (self.regs[0x2E] >> 6) == 2 and self.rate_hz() > 0

    def push(self, ax, ay, az):
        if not self.streaming():
            return
        hr = self.regs[0x23] & 0x08
        mg = (1, 2, 4, 12)[(self.regs[0x23] >> 4) & 3]
        if not hr:
            mg *= 4                                 # normal mode: 10-bit
        for v in (ax, ay, az):
            d = v // mg
            lim = 2047 if hr else 511
            d = max(-lim - 1, min(lim, d))
            raw = (d << (4 if hr else 6)) & 0xFFFF
            self._put(raw & 0xFF)
            self._put(raw >> 8)

    def read_reg(self, reg, i):
        auto = reg & 0x80
        reg &= 0x7F
        if reg == 0x2F and i == 0:
            n = self.count // 6
            src = (n if n < 32 else 31) & 0x1F
            if n == 0:
                src |= 0x20
            if n >= 32:
                src |= 0x40
            return src
        if 0x28 <= reg <= 0x2D:
            if not auto:
                i = 0
            if not self.streaming():
                return 0
            # FIFO mode: the address wraps 0x2D -> 0x28 and each 6 bytes pop a sample
            return self._pop()
        return self.regs[(reg + (i if auto else 0)) & 0x7F]


class FakeMPU6886(FakeChip):
    record = 14
    fifo_bytes = 1024
    WHO_AM_I = 0x19

    def reset(self):
        FakeChip.reset(self)
        self.regs[0x75] = self.WHO_AM_I
        self.regs[0x6B] = 0x40                      # sleeps after reset

    def rate_hz(self):
        if self.regs[0x1D] & 0x08 or not (0 < (self.regs[0x1A] & 7) < 7):
            return -1                               # divider bypassed
        return 1000 // (1 + self.regs[0x19])

    def range_g(self):
        return (2, 4, 8, 16)[(self.regs[0x1C] >> 3) & 3]

    def write_reg(self, reg, value):
        if reg == 0x6B and value & 0x80:
            self.reset()
            return
        FakeChip.write_reg(self, reg, value)
        if reg == 0x6A and value & 0x04:
            self.flush()
            self.regs[0x6A] = value & ~0x04

    def streaming(self):
        return (self.regs[0x6A] & 0x40) and self.regs[0x23] == 0x18 and not self.regs[0x6B] & 0x40

    def push(self, ax, ay, az):
        if not self.streaming():
            return
        lsb = (16384, 8192, 4096, 2048)[(self.regs[0x1C] >> 3) & 3]
        for v in (ax, ay, az):
            raw = self._raw(v, lsb)
            self._put(raw >> 8)
            self._put(raw & 0xFF)
        for b in (0x0A, 0x00, 0, 1, 0, 2, 0, 3):    # temperature, gyro
            self._put(b)

    def read_reg(self, reg, i):
        if reg == 0x74:
            return self._pop()                      # FIFO_R_W does not auto-increment
        r = reg + i
        if r == 0x72:
            return (self.count >> 8) & 0x1F
        if r == 0x73:
            return self.count & 0xFF
        return self.regs[r & 0x7F]


class FakeBMI160(FakeChip):
    record = 6
    fifo_bytes = 1024
    CHIP_ID = 0xD1

    def reset(self):
        FakeChip.reset(self)
        self.regs[0x00] = self.CHIP_ID
        self.regs[0x40] = 0x28
        self.regs[0x41] = 0x03
        self.regs[0x47] = 0x10
        self.acc_normal = False

    def rate_hz(self):
        odr = self.regs[0x40] & 0x0F
        return 100 * (2 ** odr) // 256 if odr else 0

    def range_g(self):
        return {0x03: 2, 0x05: 4, 0x08: 8, 0x0C: 16}.get(self.regs[0x41], -1)

    def write_reg(self, reg, value):
        if reg == 0x7E:
            self.writes.append((reg, value))
            if value == 0xB6:
                self.reset()
            elif value == 0x11:
                self.acc_normal = True
            elif value == 0xB0:
                self.flush()
            return
        FakeChip.write_reg(self, reg, value)

    def streaming(self):
        return self.acc_normal and (self.regs[0x47] & 0x50) == 0x40

    def push(self, ax, ay, az):
        if not self.streaming():
            return
        lsb = {0x03: 16384, 0x05: 8192, 0x08: 4096, 0x0C: 2048}[self.regs[0x41]]
        for v in (ax, ay, az):
            raw = self._raw(v, lsb)
            self._put(raw & 0xFF)
            self._put(raw >> 8)

    def read_reg(self, reg, i):
        if reg == 0x24:
            return self._pop() if self.count else 0x80   # empty FIFO reads 0x8000
        r = reg + i
        if r == 0x03:
            return 0x10 if self.acc_normal else 0x00
        if r == 0x22:
            return self.count & 0xFF
        if r == 0x23:
            return (self.count >> 8) & 0x07
        return self.regs[r & 0x7F]
