"""Sitronix ST7789 TFT over SPI, text only: the current step and rep on two lines.

Enough for the M5StickC Plus2 (135x240 panel in a 240x320 controller, so a window
offset). Drawing uses a small ``framebuf`` strip (two 8-pixel text lines, white on
black: byte order does not matter for those two colours) sent to the top of the
screen; nothing else of the panel is redrawn.
"""
import framebuf

from drivers.sensor import default_delay_ms

TYPE_CHECKING = False
if TYPE_CHECKING:                       # make typecheck: see drivers/bus.pyi
    from drivers.bus import SPI, Pin, DelayMs

_SWRESET = b"\x01"
_SLPOUT = b"\x11"
_NORON = b"\x13"
_INVON = b"\x21"
_DISPON = b"\x29"
_CASET = b"\x2a"
_RASET = b"\x2b"
_RAMWR = b"\x2c"
_MADCTL = b"\x36"
_COLMOD = b"\x3a"
_MADCTL_BY_ROTATION = (0x00, 0x60, 0xC0, 0xA0)
_STRIP_ROWS = 24
WHITE = 0xFFFF


class ST7789:
    def __init__(self, spi, cs, dc, rst, backlight, width, height, x_offset=0, y_offset=0,
                 rotation=0, delay_ms=default_delay_ms):
        # type: (SPI, Pin, Pin, Pin | None, Pin | None, int, int, int, int, int, DelayMs) -> None
        self.spi = spi
        self.cs = cs
        self.dc = dc
        if rotation & 1:                          # landscape: axes and offsets swap
            width, height = height, width
            x_offset, y_offset = y_offset, x_offset
        self.width = width
        self.height = height
        self.x0 = x_offset
        self.y0 = y_offset
        self._arg = bytearray(4)
        self.strip = bytearray(width * _STRIP_ROWS * 2)
        self.fb = framebuf.FrameBuffer(self.strip, width, _STRIP_ROWS, framebuf.RGB565)
        if rst is not None:
            rst.value(0)
            delay_ms(10)
            rst.value(1)
            delay_ms(120)
        self._cmd(_SWRESET)
        delay_ms(150)
        self._cmd(_SLPOUT)
        delay_ms(120)
        self._cmd(_COLMOD, b"\x55")               # 16 bits per pixel
        self._cmd(_MADCTL, bytes((_MADCTL_BY_ROTATION[rotation & 3],)))
        self._cmd(_INVON)                         # IPS panels need inversion on
        self._cmd(_NORON)
        self._cmd(_DISPON)
        self.fb.fill(0)
        for y in range(0, height, _STRIP_ROWS):   # clear the screen strip by strip
            self._blit(y, min(_STRIP_ROWS, height - y))
        if backlight is not None:
            backlight.value(1)

    def _cmd(self, command, data=None):
        self.cs.value(0)
        self.dc.value(0)
        self.spi.write(command)
        if data is not None:
            self.dc.value(1)
            self.spi.write(data)
        self.cs.value(1)

    def _window(self, x, y, w, h):
        a = self._arg
        x += self.x0
        y += self.y0
        a[0] = x >> 8
        a[1] = x & 0xFF
        a[2] = (x + w - 1) >> 8
        a[3] = (x + w - 1) & 0xFF
        self._cmd(_CASET, a)
        a[0] = y >> 8
        a[1] = y & 0xFF
        a[2] = (y + h - 1) >> 8
        a[3] = (y + h - 1) & 0xFF
        self._cmd(_RASET, a)

    def _blit(self, y, rows):
        self._window(0, y, self.width, rows)
        self._cmd(_RAMWR, memoryview(self.strip)[0:self.width * rows * 2])

    def show(self, t, step, rep, of):
        """What the app shows at each step start: the step name, and rep k/n in sprints."""
        cols = self.width // 8
        fb = self.fb
        fb.fill(0)
        fb.text(step[:cols], 0, 2, WHITE)
        if of:
            fb.text("%d/%d" % (rep, of), 0, 14, WHITE)
        self._blit(0, _STRIP_ROWS)
