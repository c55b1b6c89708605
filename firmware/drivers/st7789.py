"""Sitronix ST7789 TFT over SPI: filled rectangles and 5x7 text, drawn straight to the panel.

No frame buffer (a 240x240 one is 113 KiB): ``fill_rect`` opens a window and streams one
colour from a 64-pixel line buffer, ``text`` renders a line of text into a strip buffer
and sends that. ``fill_rect`` allocates nothing (the buffer's every length has its
memoryview made up front), so the screen's once-a-second digits run under
``micropython.heap_lock``. Colours are RGB565, sent high byte first.

The bus and pins are what the runtime hands over: ``spi.write(buf)`` and
``pin.value(v)`` (MicroPython's ``machine.SPI``/``machine.Pin``; CircuitPython's
``busio.SPI``/``digitalio`` behind the adapters in ``swrt.cp``). Panels smaller than the
controller's 240x320 sit at a window offset (M5StickC Plus2: 135x240 at 52, 40).
"""
from drivers.sensor import default_delay_ms
from swcore.font import GLYPHS, INDEX, WIDTH as GLYPH_W, HEIGHT as GLYPH_H

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

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
_CHUNK = const(64)          # pixels in the fill buffer
MAX_SCALE = 3               # text sizes 1..3 (a 5x7 glyph in a 6x8 cell, times the scale)
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
        self._line = bytearray(2 * _CHUNK)
        self._views = [memoryview(self._line)[0:2 * n] for n in range(_CHUNK + 1)]
        self._colour = -1   # type: int
        self.strip = bytearray(width * 8 * MAX_SCALE * 2)   # one line of text at the largest size
        self._strip_views = {}
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
        self.fill_rect(0, 0, width, height, 0)
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

    def fill_rect(self, x, y, w, h, colour):
        """Fill a rectangle (clipped to the panel) with one colour; allocates nothing."""
        if x < 0:
            w += x
            x = 0
        if y < 0:
            h += y
            y = 0
        if x + w > self.width:
            w = self.width - x
        if y + h > self.height:
            h = self.height - y
        if w <= 0 or h <= 0:
            return
        if colour != self._colour:
            hi = colour >> 8
            lo = colour & 0xFF
            line = self._line
            for i in range(0, 2 * _CHUNK, 2):
                line[i] = hi
                line[i + 1] = lo
            self._colour = colour
        self._window(x, y, w, h)
        n = w * h
        self.cs.value(0)
        self.dc.value(0)
        self.spi.write(_RAMWR)
        self.dc.value(1)
        full = self._views[_CHUNK]
        for _ in range(n // _CHUNK):
            self.spi.write(full)
        if n % _CHUNK:
            self.spi.write(self._views[n % _CHUNK])
        self.cs.value(1)

    def text(self, s, x, y, w, scale, colour, background):
        """One line of text (bytes) at ``scale`` in a band ``w`` wide and ``8 * scale`` high
        whose left edge is ``x``: the band is cleared, characters past it are cut."""
        scale = max(1, min(MAX_SCALE, scale))
        if x + w > self.width:
            w = self.width - x
        h = 8 * scale
        if w <= 0 or y + h > self.height:
            return
        n = w * h * 2
        buf = self.strip
        bh = background >> 8
        bl = background & 0xFF
        for i in range(0, n, 2):
            buf[i] = bh
            buf[i + 1] = bl
        fh = colour >> 8
        fl = colour & 0xFF
        cell = (GLYPH_W + 1) * scale
        for k in range(len(s)):
            left = k * cell
            if left + GLYPH_W * scale > w:
                break
            code = s[k]
            g = INDEX[code] * GLYPH_W if code < 128 else 0
            for col in range(GLYPH_W):
                bits = GLYPHS[g + col]
                if not bits:
                    continue
                for row in range(GLYPH_H):
                    if bits & (1 << row):
                        px = left + col * scale
                        py = row * scale
                        for dy in range(scale):
                            at = ((py + dy) * w + px) * 2
                            for _ in range(scale):
                                buf[at] = fh
                                buf[at + 1] = fl
                                at += 2
        view = self._strip_views.get(n)
        if view is None:          # one per band size the layout uses, made at its first draw
            view = memoryview(buf)[0:n]
            self._strip_views[n] = view
        self._window(x, y, w, h)
        self._cmd(_RAMWR, view)

    def show(self, t, step, rep, of):
        # type: (int, str, int, int) -> None
        """Without a screen layout on top: the step name, and rep k/n in sprints."""
        self.fill_rect(0, 0, self.width, 16, 0)
        self.text(step.encode(), 0, 0, self.width, 1, WHITE, 0)
        if of:
            self.text(("%d/%d" % (rep, of)).encode(), 0, 8, self.width, 1, WHITE, 0)
