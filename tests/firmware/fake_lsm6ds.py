"""An emulated LSM6DS33 / LSM6DS3TR-C for the driver tests, on fake_i2c's FakeBus.

It keeps 16-bit words in the FIFO only while the driver has really set the
accelerometer rate, put it in the FIFO and chosen continuous mode; the status
registers report unread words and which axis comes next, like the chip, and a read
from FIFO_DATA_OUT_L pops bytes however long it is (the address rolls back).
"""
from fake_i2c import FakeChip


class FakeLSM6DS(FakeChip):
    record = 6
    fifo_bytes = 6 * 512

    def __init__(self, address, who_am_i=0x6A):
        self.who_am_i = who_am_i
        self.head_word = 0          # which axis (0 x, 1 y, 2 z) the next FIFO word is
        FakeChip.__init__(self, address)

    def reset(self):
        FakeChip.reset(self)
        self.regs[0x0F] = self.who_am_i
        self.regs[0x12] = 0x04      # IF_INC set after reset

    def flush(self):
        FakeChip.flush(self)
        self.head_word = 0

    def rate_hz(self):
        return (0, 13, 26, 52, 104, 208, 416)[self.regs[0x10] >> 4] if self.regs[0x10] >> 4 < 7 else -1

    def range_g(self):
        return {0: 2, 1: 16, 2: 4, 3: 8}[(self.regs[0x10] >> 2) & 3]

    def write_reg(self, reg, value):
        if reg == 0x12 and value & 0x01:
            self.writes.append((reg, value))
            self.reset()
            return
        FakeChip.write_reg(self, reg, value)
        if reg == 0x0A and value & 0x07 == 0:
            self.flush()                            # bypass mode empties the FIFO

    def streaming(self):
        return (self.regs[0x0A] & 0x07) == 6 and (self.regs[0x0A] >> 3) and \
            (self.regs[0x08] & 0x07) == 1 and self.rate_hz() > 0

    def _put_word(self, raw):
        if self.count >= self.fifo_bytes:          # full: the oldest word goes
            self._pop()
            self._pop()
            self.head_word = (self.head_word + 1) % 3
            self.overflowed = True
        self._put(raw & 0xFF)
        self._put(raw >> 8)

    def push(self, ax, ay, az):
        if not self.streaming():
            return
        lsb_per_g = {2: 16393, 4: 8197, 8: 4098, 16: 2049}[self.range_g()]
        for v in (ax, ay, az):
            self._put_word(self._raw(v, lsb_per_g))

    def read_reg(self, reg, i):
        r = reg + i if reg != 0x3E else 0x3E
        if r == 0x3A:
            return (self.count // 2) & 0xFF
        if r == 0x3B:
            words = self.count // 2
            over = 0x40 if self.overflowed else 0
            self.overflowed = False                 # cleared once read
            return ((words >> 8) & 0x0F) | (0x10 if words == 0 else 0) | over
        if r == 0x3C:
            return self.head_word
        if r == 0x3D:
            return 0
        if r == 0x3E:
            b = self._pop()
            if self.count % 2 == 0:
                self.head_word = (self.head_word + 1) % 3
            return b
        return self.regs[r & 0x7F]
