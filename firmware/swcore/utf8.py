"""UTF-8 checks shared by the plan reader and the log format, so every runtime
accepts and refuses exactly the same bytes.

CPython's decoder follows RFC 3629; MicroPython's lets surrogates (``ED A0 80``),
overlong forms and code points past U+10FFFF through. ``first_bad`` is the one rule.
"""


def first_bad(data, start=0, end=None):
    """Offset of the first byte in ``data[start:end]`` that does not begin a valid
    UTF-8 sequence (RFC 3629: no surrogates, no overlong forms, at most U+10FFFF), or -1."""
    i = start
    n = len(data) if end is None else end
    while i < n:
        b = data[i]
        if b < 0x80:
            i += 1
            continue
        if 0xC2 <= b <= 0xDF:
            need, lo, hi = 1, 0x80, 0xBF
        elif b == 0xE0:
            need, lo, hi = 2, 0xA0, 0xBF
        elif b == 0xED:
            need, lo, hi = 2, 0x80, 0x9F       # no surrogates
        elif 0xE1 <= b <= 0xEF:
            need, lo, hi = 2, 0x80, 0xBF
        elif b == 0xF0:
            need, lo, hi = 3, 0x90, 0xBF
        elif 0xF1 <= b <= 0xF3:
            need, lo, hi = 3, 0x80, 0xBF
        elif b == 0xF4:
            need, lo, hi = 3, 0x80, 0x8F       # nothing past U+10FFFF
        else:
            return i
        if i + need >= n:
            return i
        c = data[i + 1]
        if c < lo or c > hi:
            return i
        for k in range(i + 2, i + need + 1):
            c = data[k]
            if c < 0x80 or c > 0xBF:
                return i
        i += need + 1
    return -1


def repair(data):
    """``data`` as valid UTF-8: each byte that does not begin a valid sequence becomes
    ``?``. The same bytes give the same result on every runtime."""
    bad = first_bad(data)
    if bad < 0:
        return bytes(data)
    out = bytearray()
    pos = 0
    while bad >= 0:
        out.extend(data[pos:bad])
        out.append(0x3F)
        pos = bad + 1
        bad = first_bad(data, pos)
    out.extend(data[pos:])
    return bytes(out)


def encode(text):
    """``text`` as valid UTF-8 bytes, lone surrogates (which MicroPython strings can
    hold, and CPython ones too) each repaired to ``?``."""
    try:
        b = text.encode()
    except UnicodeError:                       # CPython: a lone surrogate
        b = text.encode("utf-8", "surrogatepass")
    if _ascii(b):
        return b
    return repair(b)


def _ascii(b):
    for c in b:
        if c >= 0x80:
            return False
    return True


def clean(v):
    """A JSON-like value with every text in it (keys too) made valid by ``encode``'s
    rule, so a value read back is the same on every runtime."""
    if isinstance(v, str):
        b = encode(v)
        return v if len(b) == len(v) else str(b, "utf-8")
    if isinstance(v, list):
        return [clean(x) for x in v]
    if isinstance(v, dict):
        out = {}
        for k in v:
            out[clean(k)] = clean(v[k])
        return out
    return v
