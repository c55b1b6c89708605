"""An ST7789 as its SPI bus sees it: command and data bytes become a frame of RGB565 pixels.

Stands in for the panel in the screen tests: the real driver (drivers.st7789) writes to
it exactly what it would send over SPI, and ``frame`` is what the glass would show
(logical coordinates, the driver's window offset taken off). ``write`` allocates
nothing, so the screen's per-second path can run under ``heap_lock`` with it.
"""


class PanelPin:
    def __init__(self):
        self.v = 1

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = v


class Panel:
    def __init__(self, width, height, x_offset=0, y_offset=0):
        self.w = width
        self.h = height
        self.x0 = x_offset
        self.y0 = y_offset
        self.frame = bytearray(width * height * 2)
        self.dc = PanelPin()
        self.cs = PanelPin()
        self.cmd = 0
        self.args = bytearray(4)
        self.nargs = 0
        self.xs = self.xe = self.ys = self.ye = 0
        self.x = self.y = 0
        self.high = -1
        self.pixels = 0          # pixels written since the panel was made
        self.outside = 0         # pixels that fell outside the glass

    def write(self, buf):
        if self.cs.v:
            return                       # not selected
        if self.dc.v == 0:
            self.cmd = buf[0]
            self.nargs = 0
            self.high = -1
            if self.cmd == 0x2C:
                self.x = self.xs
                self.y = self.ys
            return
        cmd = self.cmd
        if cmd == 0x2A or cmd == 0x2B:
            for i in range(len(buf)):
                if self.nargs < 4:
                    self.args[self.nargs] = buf[i]
                    self.nargs += 1
            if self.nargs == 4:
                a = self.args
                start = a[0] << 8 | a[1]
                end = a[2] << 8 | a[3]
                if cmd == 0x2A:
                    self.xs = start - self.x0
                    self.xe = end - self.x0
                else:
                    self.ys = start - self.y0
                    self.ye = end - self.y0
        elif cmd == 0x2C:
            fr = self.frame
            w = self.w
            for i in range(len(buf)):
                if self.high < 0:
                    self.high = buf[i]
                    continue
                x = self.x
                y = self.y
                if 0 <= x < w and 0 <= y < self.h:
                    at = (y * w + x) * 2
                    fr[at] = self.high
                    fr[at + 1] = buf[i]
                else:
                    self.outside += 1
                self.high = -1
                self.pixels += 1
                x += 1
                if x > self.xe:
                    x = self.xs
                    self.y = y + 1
                self.x = x

    def pixel(self, x, y):
        at = (y * self.w + x) * 2
        return self.frame[at] << 8 | self.frame[at + 1]


def no_delay(ms):
    pass
