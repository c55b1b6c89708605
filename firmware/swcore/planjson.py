"""A strict, bounded JSON reader for plans: the same answer on every runtime.

CPython's and MicroPython's ``json`` disagree on ordinary input (``NaN``, leading
zeros, surrogate escapes, huge numbers, deep nesting), so the plan parser reads
JSON with this instead. It works on bytes and is total: any input gives a value or
a JSONError naming the line and column, never another exception.

* The text must be valid UTF-8 (RFC 3629: no surrogates, no overlong forms); a
  leading byte-order mark is skipped. A ``\\uD83C\\uDFC3`` escape pair becomes the
  one character it encodes; a lone surrogate escape is an error.
* RFC 8259 grammar only: no NaN, Infinity, leading zeros, trailing commas,
  comments; a field may appear only once in an object.
* Documents of at most MAX_BYTES bytes, nested at most MAX_DEPTH deep.
* Numbers come back as ``Num``: the text as written and its value. The value is
  computed from the decimal digits with one IEEE rounding (so every runtime with
  doubles gets the same float, the one CPython's ``float()`` gives), and is None
  when the number has more than MAX_DIGITS significant digits or its exponent is
  beyond MAX_EXP: no plan value needs either, and such a number is then reported
  by the field that holds it.
"""

from swcore.utf8 import first_bad

MAX_BYTES = 16384
MAX_DEPTH = 8
MAX_DIGITS = 15
MAX_EXP = 22

_WS = b" \t\n\r"
_ESCAPES = {0x22: '"', 0x5C: "\\", 0x2F: "/", 0x62: "\b", 0x66: "\f", 0x6E: "\n", 0x72: "\r", 0x74: "\t"}
_HEX = b"0123456789abcdefABCDEF"


class JSONError(ValueError):
    """Bytes that are not a plan-sized, strict JSON document."""


class Num:
    """A JSON number: ``text`` as written, ``value`` (int, float, or None when it is
    out of the exactly-computed range), ``digits`` and ``exp`` (value = digits × 10^exp,
    sign in ``negative``)."""

    def __init__(self, text, negative, digits, exp, is_int):
        self.text = text
        self.negative = negative
        self.digits = digits        # int, trailing zeros moved into exp; None when too long
        self.exp = exp
        self.value = _value(negative, digits, exp, is_int)

    def milli(self):
        """The value × 1000 as an int, exact (finer digits dropped toward zero), or None."""
        if self.value is None:
            return None
        e = self.exp + 3
        m = self.digits * 10 ** e if e >= 0 else self.digits // 10 ** -e
        return -m if self.negative else m

    def __repr__(self):
        return self.text


def _powers():
    out = [1.0]
    for _ in range(MAX_EXP):
        out.append(out[-1] * 10.0)   # every power of ten to 1e22 is an exact double
    return out


_POW10 = _powers()


def _value(negative, digits, exp, is_int):
    if digits is None or exp > MAX_EXP or exp < -MAX_EXP:
        return None
    if is_int:
        v = digits * 10 ** exp
        if v >= 10 ** MAX_DIGITS:
            return None
        return -v if negative else v
    if digits == 0:
        return -0.0 if negative else 0.0
    if exp >= 0:
        v = float(digits) * _POW10[exp]
    else:
        v = float(digits) / _POW10[-exp]
    return -v if negative else v


check_utf8 = first_bad


class _Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def fail(self, msg, pos=None):
        if pos is None:
            pos = self.pos
        data = self.data
        line = 1
        start = 0
        for i in range(min(pos, len(data))):
            if data[i] == 0x0A:
                line += 1
                start = i + 1
        col = 1
        for i in range(start, min(pos, len(data))):
            if data[i] & 0xC0 != 0x80:     # count characters, not continuation bytes
                col += 1
        raise JSONError("line %d column %d: %s" % (line, col, msg))

    def skip_ws(self):
        data = self.data
        n = len(data)
        p = self.pos
        while p < n and data[p] in _WS:
            p += 1
        self.pos = p

    def peek(self):
        self.skip_ws()
        if self.pos >= len(self.data):
            self.fail("the text ends too early")
        return self.data[self.pos]

    def value(self, depth):
        c = self.peek()
        if c == 0x7B:
            return self.obj(depth + 1)
        if c == 0x5B:
            return self.array(depth + 1)
        if c == 0x22:
            return self.string()
        if c == 0x2D or 0x30 <= c <= 0x39:
            return self.number()
        for word, v in ((b"true", True), (b"false", False), (b"null", None)):
            if self.data[self.pos:self.pos + len(word)] == word:
                self.pos += len(word)
                return v
        self.fail("expected a value (text in double quotes, a number, true, false, null, a list or an object)")

    def nest(self, depth):
        if depth > MAX_DEPTH:
            self.fail("nested more than %d deep" % MAX_DEPTH)

    def obj(self, depth):
        self.nest(depth)
        self.pos += 1
        out = {}
        if self.peek() == 0x7D:
            self.pos += 1
            return out
        while True:
            if self.peek() != 0x22:
                self.fail("expected a field name in double quotes")
            at = self.pos
            key = self.string()
            if key in out:
                self.fail("field %s appears twice" % quote(key), at)
            if self.peek() != 0x3A:
                self.fail("expected ':' after a field name")
            self.pos += 1
            out[key] = self.value(depth)
            c = self.peek()
            self.pos += 1
            if c == 0x7D:
                return out
            if c != 0x2C:
                self.fail("expected ',' or '}'", self.pos - 1)

    def array(self, depth):
        self.nest(depth)
        self.pos += 1
        out = []
        if self.peek() == 0x5D:
            self.pos += 1
            return out
        while True:
            out.append(self.value(depth))
            c = self.peek()
            self.pos += 1
            if c == 0x5D:
                return out
            if c != 0x2C:
                self.fail("expected ',' or ']'", self.pos - 1)

    def string(self):
        data = self.data
        n = len(data)
        p = self.pos + 1
        parts = []
        run = p
        while True:
            if p >= n:
                self.fail("text in quotes is not closed", self.pos)
            c = data[p]
            if c == 0x22:
                break
            if c < 0x20:
                self.fail("a control character in text (write it as an escape such as \\n)", p)
            if c != 0x5C:
                p += 1
                continue
            if run < p:
                parts.append(str(data[run:p], "utf-8"))
            if p + 1 >= n:
                self.fail("text in quotes is not closed", self.pos)
            e = data[p + 1]
            if e == 0x75:
                cp, p = self.unicode_escape(p)
                parts.append(chr(cp))
            elif e in _ESCAPES:
                parts.append(_ESCAPES[e])
                p += 2
            else:
                self.fail("unknown escape in text", p)
            run = p
        if run < p:
            parts.append(str(data[run:p], "utf-8"))
        self.pos = p + 1
        return "".join(parts)

    def hex4(self, p):
        """The 4 hex digits of a \\u escape starting at ``p`` (the backslash)."""
        digits = self.data[p + 2:p + 6]
        if len(digits) < 4:
            self.fail("a \\u escape needs 4 hex digits", p)
        for d in digits:
            if d not in _HEX:
                self.fail("a \\u escape needs 4 hex digits", p)
        return int(str(digits, "ascii"), 16)

    def unicode_escape(self, p):
        cp = self.hex4(p)
        if 0xDC00 <= cp <= 0xDFFF:
            self.fail("a lone surrogate \\u%04x in text (not a character)" % cp, p)
        if 0xD800 <= cp <= 0xDBFF:
            if self.data[p + 6:p + 8] != b"\\u":
                self.fail("a lone surrogate \\u%04x in text (not a character)" % cp, p)
            low = self.hex4(p + 6)
            if not 0xDC00 <= low <= 0xDFFF:
                self.fail("a lone surrogate \\u%04x in text (not a character)" % cp, p)
            return 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00), p + 12
        return cp, p + 6

    def number(self):
        data = self.data
        n = len(data)
        start = p = self.pos
        negative = data[p] == 0x2D
        if negative:
            p += 1
        int_start = p
        while p < n and 0x30 <= data[p] <= 0x39:
            p += 1
        int_digits = data[int_start:p]
        if not int_digits:
            self.fail("a number needs digits after '-'", start)
        if len(int_digits) > 1 and int_digits[0] == 0x30:
            self.fail("a number must not start with 0 (write 7, not 07)", start)
        frac = b""
        is_int = True
        if p < n and data[p] == 0x2E:
            p += 1
            f0 = p
            while p < n and 0x30 <= data[p] <= 0x39:
                p += 1
            frac = data[f0:p]
            if not frac:
                self.fail("a number needs digits after '.'", start)
            is_int = False
        exp = 0
        exp_ok = True
        if p < n and data[p] in b"eE":
            p += 1
            sign = 1
            if p < n and data[p] in b"+-":
                sign = -1 if data[p] == 0x2D else 1
                p += 1
            e0 = p
            while p < n and 0x30 <= data[p] <= 0x39:
                p += 1
            exp_text = data[e0:p]
            if not exp_text:
                self.fail("a number needs digits in its exponent", start)
            stripped = exp_text.lstrip(b"0")
            if len(stripped) > 4:
                exp_ok = False
            else:
                exp = sign * int(str(stripped or b"0", "ascii"))
            is_int = False
        self.pos = p
        text = str(data[start:p], "ascii")
        all_digits = (int_digits + frac).lstrip(b"0")
        exp -= len(frac)
        trimmed = all_digits.rstrip(b"0")
        exp += len(all_digits) - len(trimmed)
        if not exp_ok or len(trimmed) > MAX_DIGITS:
            return Num(text, negative, None, 0, is_int)
        digits = int(str(trimmed, "ascii")) if trimmed else 0
        if digits == 0:
            exp = 0
        return Num(text, negative, digits, exp, is_int)


def loads(data):
    """The value of a JSON document (bytes or text); JSONError says what is wrong.
    Numbers are ``Num``; objects are dicts, lists lists, text str."""
    if isinstance(data, str):
        try:
            data = data.encode()
        except UnicodeError:    # CPython text holding lone surrogates
            raise JSONError("the text is not valid Unicode (a lone surrogate)")
    if not isinstance(data, (bytes, bytearray)):
        raise JSONError("expected text or bytes, got %s" % type(data).__name__)
    data = bytes(data)
    if len(data) > MAX_BYTES:
        raise JSONError("the document is %d bytes, more than %d" % (len(data), MAX_BYTES))
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    bad = check_utf8(data)
    r = _Reader(data)
    if bad >= 0:
        r.fail("byte 0x%02x is not UTF-8 text" % data[bad], bad)
    v = r.value(0)
    r.skip_ws()
    if r.pos != len(data):
        r.fail("extra text after the end of the document")
    return v


def quote(s, limit=60):
    """Text in single quotes, the same on every runtime: control characters escaped,
    cut to ``limit`` characters."""
    out = ["'"]
    count = 0
    for ch in s:
        count += 1
        if count > limit:
            out.append("...")
            break
        o = ord(ch)
        if ch == "'" or ch == "\\":
            out.append("\\" + ch)
        elif o < 0x20 or 0x7F <= o <= 0x9F:
            out.append("\\x%02x" % o)
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    out.append("'")
    return "".join(out)


# ---- the plan parser's messages (swcore.plan loads these only when it needs them) ----
def where(set_no, set_name, step_no=None, step_name=None, field=None):
    parts = []
    if set_no is not None:
        parts.append("set %d %s" % (set_no, quote(set_name) if set_name else "(unnamed)"))
    if step_no is not None:
        parts.append("step %d %s" % (step_no, quote(step_name) if step_name else "(unnamed)"))
    if field is not None:
        parts.append("field %s" % quote(field))
    return ", ".join(parts) if parts else "plan"


def show(v):
    """A value as the message shows it: numbers as written, text quoted."""
    if isinstance(v, Num):
        return v.text
    if isinstance(v, str):
        return quote(v)
    if v is None or isinstance(v, bool):
        return type_name(v)
    if isinstance(v, (int, float)):
        return repr(v)
    return type_name(v)


def type_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true/false"
    if isinstance(v, str):
        return "text"
    if isinstance(v, (int, float, Num)):
        return "a number"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__
