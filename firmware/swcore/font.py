"""The screen's font: 5x7 capitals, digits and signs, five column bytes a glyph (bit 0 on top).

Drawn from ``host_tools/fontart.py`` (which prints this table). The same pixels on
every port: MicroPython's ``framebuf`` font is not on CircuitPython, and the golden
frames in tests/ must not depend on the runtime. Lower case maps to capitals; a
character the font lacks is drawn as a space.
"""
CHARS = " 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.,:%/-+?!'()"
GLYPHS = (
    b'\x00\x00\x00\x00\x00>QIE>\x00B\x7f@\x00BaQIF'
    b"!AEK1\x18\x14\x12\x7f\x10'EEE9<JII0"
    b'\x01q\t\x05\x036III6\x06II)\x1e~\t\t\t~'
    b'\x7fIII6>AAA"\x7fAA"\x1c\x7fIIIA'
    b'\x7f\t\t\t\x01>AIIz\x7f\x08\x08\x08\x7f\x00A\x7fA\x00'
    b' @A?\x01\x7f\x08\x14"A\x7f@@@@\x7f\x02\x0c\x02\x7f'
    b'\x7f\x04\x08\x10\x7f>AAA>\x7f\t\t\t\x06>AQ!^'
    b'\x7f\t\x19)FFIII1\x01\x01\x7f\x01\x01?@@@?'
    b'\x1f @ \x1f?@8@?c\x14\x08\x14c\x03\x04x\x04\x03'
    b'aQIEC\x00``\x00\x00\x00P0\x00\x00\x0066\x00\x00'
    b'#\x13\x08db \x10\x08\x04\x02\x08\x08\x08\x08\x08\x08\x08>\x08\x08'
    b'\x02\x01Q\t\x06\x00\x00_\x00\x00\x00\x04\x03\x00\x00\x00\x1c"A\x00'
    b'\x00A"\x1c\x00'
)
WIDTH = 5
HEIGHT = 7


def _index():
    table = bytearray(128)
    for i in range(len(CHARS)):
        table[ord(CHARS[i])] = i
    for c in range(ord("a"), ord("z") + 1):
        table[c] = table[c - 32]
    return bytes(table)


INDEX = _index()   # character code (< 128) -> glyph number; 0 is the space
