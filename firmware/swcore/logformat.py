"""The session log format: encode on the board, decode on the board and the laptop.

A session file is a header then records; every part carries a CRC-32, so a reader
never takes a torn or rotten byte for data. This module writes; swcore.logread
reads (``read_session`` here loads it). Records are exactly the app's events
``(t_ms, event, fields)``: known events and field names get one-byte codes, anything
else is spelt out, so every event round-trips. The byte layout is in
docs/log-format.md. The host and the sync code import this module; there is no
second parser.
"""
import struct

from swcore.utf8 import encode as utf8_encode

try:
    from binascii import crc32 as _crc32
except ImportError:  # some ports build binascii without crc32
    _crc32 = None
try:
    from hashlib import sha256    # MicroPython, CPython; the firmware's one source of SHA-256
except ImportError:
    try:
        import hashlib as _hashlib    # CircuitPython: only hashlib.new

        def sha256(data=b""):
            return _hashlib.new("sha256", data)
    except ImportError:           # no hashlib at all: the same digests in pure Python
        from swcore.sha256 import sha256

MAGIC = b"SWLG"
VERSION = 1
MAX_BODY = 1024          # bytes in one record body (and the header's field block); bigger events are refused
MAX_HEADER_TEXT = 96     # bytes of UTF-8 kept of the header's plan name and firmware version
FILE_EXT = ".swlog"      # name of a session file once it leaves the device

# Record types: one per known event. Never renumber; append only.
NAMED = 0                # event name spelt out, then fields
EVENTS = (None, "step_start", "step_end", "cue", "sprint_go", "rep", "pause", "resume",
          "session_end", "plan_fallback", "sensor_fault", "motion_no_tap", "ignored",
          "sprint_tick", "storage_full", "log_skipped", "interrupted", "resumed",
          "storage_fault", "battery", "accel_raw")
SPRINT_TICK = 13         # packed: cadence_spm (uint), peak_g (centi-g)
ACCEL_RAW = 20           # packed: rate_hz, n, then n samples as zigzag deltas (swcore.capture)

# Field names with a code (0..30); 31 means the name follows. Append only.
KEYS = ("set", "step", "kind", "index", "rep", "of", "reason", "pattern", "start_ms",
        "duration_ms", "motion", "reaction_ms", "paused_ms", "reps", "error", "gesture",
        "why", "cadence_spm", "peak_g", "steps", "boot", "file", "event", "session",
        "plan", "plan_hash", "fw", "clock_set", "wall_s", "builtin", "dropped")
KEY_NAMED = 31

# Values that get a one-byte code (step kinds, end reasons, cue patterns, gestures,
# the built-in session's names). Append only.
WORDS = ("timed", "open", "sprint", "recovery", "time", "tap", "skipped", "max", "motion",
         "step_start", "countdown", "sprint_go", "sprint_end", "recovery_ready",
         "recovery_over", "session_done", "error", "pause", "resume", "cadence_low",
         "warning", "button_only", "double", "long", "paused", "recovery not over",
         "timed step", "Warm-Up Set", "Descending Sprints Set", "Cool-Down Set",
         "Easy Jog", "Dynamic Stretches", "Sprint Setup", "Sprint", "Walk Back Recovery",
         "Easy Jog or Walk", "Static Stretching", "Descending Sprints")

# Value types (low 3 bits of a field's tag byte).
T_UINT = 0
T_NEG = 1      # varint of -v - 1
T_STR = 2
T_WORD = 3
T_FALSE = 4
T_TRUE = 5
T_CENTI = 6    # a float with at most 2 decimals: zigzag varint of v * 100
T_OTHER = 7    # a sub-type byte follows
SUB_NONE = 0
SUB_FLOAT = 1  # 8-byte IEEE double, little-endian
SUB_JSON = 2   # JSON text (lists, dicts)


class FormatError(ValueError):
    """Bytes that are not a valid part of a session log."""


def _code(table, value):
    """Index of a text ``value`` in a code table, or None. (A linear search: tables
    are short and records rare, and a dict would cost RAM on the board.)"""
    if not isinstance(value, str):
        return None
    try:
        return table.index(value)
    except ValueError:
        return None


# ---- CRC-32 ---------------------------------------------------------------------
_TABLE = None


def crc32_pure(data, crc=0):
    """CRC-32 (the zlib/binascii one) in plain Python, for ports without binascii.crc32."""
    global _TABLE
    if _TABLE is None:
        table = []
        for n in range(256):
            c = n
            for _ in range(8):
                c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
            table.append(c)
        _TABLE = table
    table = _TABLE
    crc = crc ^ 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crc32(data, crc=0):
    if _crc32 is not None:
        return _crc32(data, crc) & 0xFFFFFFFF
    return crc32_pure(data, crc)


# ---- session digest -------------------------------------------------------------
def session_digest(data):
    """A session file's identity: the first 4 bytes (little-endian u32) of SHA-256
    over the whole file. ``data`` is the file's bytes or an iterable of its chunks.

    Not a CRC-32: each block of the file ends with its own CRC-32, and a CRC run over
    a block followed by that block's CRC depends only on the block's length, so
    every session with the same record lengths has the same whole-file CRC."""
    h = sha256()
    if isinstance(data, (bytes, bytearray, memoryview)):
        h.update(data)
    else:
        for chunk in data:
            h.update(chunk)
    return struct.unpack("<I", h.digest()[:4])[0]


# ---- primitives -----------------------------------------------------------------
def put_varint(buf, n):
    while n > 0x7F:
        buf.append((n & 0x7F) | 0x80)
        n >>= 7
    buf.append(n)


def _put_str(buf, s, limit=0):
    """Text as varint length + UTF-8. What the reader would refuse is repaired here:
    a lone surrogate becomes ``?`` (swcore.utf8). ``limit``: cut to that many bytes,
    at a character boundary."""
    b = utf8_encode(s)
    if limit and len(b) > limit:
        cut = limit
        while cut > 0 and b[cut] & 0xC0 == 0x80:
            cut -= 1
        b = b[:cut]
    put_varint(buf, len(b))
    buf.extend(b)


def _centi(v):
    """v * 100 as an int when v is a float with at most two decimals, else None."""
    if not isinstance(v, float) or v != v or v in (float("inf"), float("-inf")):
        return None
    if abs(v) > 1e12:
        return None
    c = int(round(v * 100))
    return c if c / 100 == v else None


def _put_value(buf, key_byte, v):
    if v is True or v is False:
        buf.append(key_byte | (T_TRUE if v else T_FALSE))
    elif isinstance(v, int):
        if v >= 0:
            buf.append(key_byte | T_UINT)
            put_varint(buf, v)
        else:
            buf.append(key_byte | T_NEG)
            put_varint(buf, -v - 1)
    elif isinstance(v, str):
        code = _code(WORDS, v)
        if code is not None:
            buf.append(key_byte | T_WORD)
            put_varint(buf, code)
        else:
            buf.append(key_byte | T_STR)
            _put_str(buf, v)
    elif isinstance(v, float):
        c = _centi(v)
        if c is not None:
            buf.append(key_byte | T_CENTI)
            put_varint(buf, c * 2 if c >= 0 else -c * 2 - 1)
        else:
            buf.append(key_byte | T_OTHER)
            buf.append(SUB_FLOAT)
            buf.extend(struct.pack("<d", v))
    elif v is None:
        buf.append(key_byte | T_OTHER)
        buf.append(SUB_NONE)
    else:
        import json
        from swcore.utf8 import clean
        buf.append(key_byte | T_OTHER)
        buf.append(SUB_JSON)
        _put_str(buf, json.dumps(clean(v)))   # (CPython escapes a lone surrogate; MicroPython does not)


def _put_fields(buf, fields):
    for k in fields:
        code = _code(KEYS, k)
        if code is not None:
            _put_value(buf, code << 3, fields[k])
        else:
            if not isinstance(k, str):
                raise FormatError("field name %s is not text" % repr(k))
            # named field: tag byte, name, then the value (written as if by _put_value)
            tmp = bytearray()
            _put_value(tmp, KEY_NAMED << 3, fields[k])
            buf.append(tmp[0])
            _put_str(buf, k)
            buf.extend(tmp[1:])


# ---- header ---------------------------------------------------------------------
def encode_header(session, boot, plan, plan_hash, fw, wall_s=None, builtin=False):
    """The file header: magic, version, field block, CRC-32. ``wall_s`` is the
    wall clock (Unix seconds) at session start, None when the clock is not set."""
    for key, text in (("plan", plan), ("fw", fw)):
        if not isinstance(text, str):
            raise FormatError("header %s must be text, got %s" % (key, repr(text)))
    fields = {"session": session, "boot": boot, "plan": plan, "plan_hash": plan_hash,
              "fw": fw, "clock_set": wall_s is not None}
    if wall_s is not None:
        fields["wall_s"] = int(wall_s)
    if builtin:
        fields["builtin"] = True
    body = bytearray()
    for key in fields:
        v = fields[key]
        if isinstance(v, str) and _code(WORDS, v) is None:   # bounded: the header stays readable
            body.append(KEYS.index(key) << 3 | T_STR)
            _put_str(body, v, MAX_HEADER_TEXT)
        else:
            _put_value(body, KEYS.index(key) << 3, v)
    if len(body) > MAX_BODY:
        raise FormatError("header is %d bytes, more than %d" % (len(body), MAX_BODY))
    buf = bytearray(MAGIC)
    buf.append(VERSION)
    put_varint(buf, len(body))
    buf.extend(body)
    buf.extend(struct.pack("<I", crc32(buf)))
    return bytes(buf)


def check_header(data):
    """Length of the valid header at the start of ``data`` (magic, version, CRC
    checked, fields not decoded); FormatError says what is wrong."""
    if len(data) < 6 or bytes(data[0:4]) != MAGIC:
        raise FormatError("not a session log")
    if data[4] != VERSION:
        raise FormatError("format version %d, this reader knows %d" % (data[4], VERSION))
    n = data[5]
    pos = 6
    if n & 0x80:
        if len(data) < 7:
            raise FormatError("header truncated")
        n = (n & 0x7F) | (data[6] << 7)
        pos = 7
    if n > MAX_BODY or pos + n + 4 > len(data):
        raise FormatError("header truncated")
    if crc32(data[0:pos + n]) != struct.unpack("<I", bytes(data[pos + n:pos + n + 4]))[0]:
        raise FormatError("header CRC mismatch")
    return pos + n + 4


# The reader lives in swcore.logread (loaded only when something is read, so a
# board running a session does not keep it in RAM); these are its entry points.
def read_session(data):
    """Decode a whole session file; never raises. See swcore.logread.read_session."""
    from swcore import logread
    return logread.read_session(data)


def decode_header(data):
    """``(header dict, size in bytes)``; FormatError says what is wrong."""
    from swcore import logread
    return logread.decode_header(data)


def unload_reader():
    """Let the GC take the reader back (MicroPython) once boot-time checks are done."""
    import sys
    if sys.implementation.name == "micropython" and "swcore.logread" in sys.modules:
        del sys.modules["swcore.logread"]


# ---- records --------------------------------------------------------------------
def encode_record(t_ms, event, fields):
    """One framed record: varint body length, body, CRC-32 of both (little-endian)."""
    if not isinstance(t_ms, int) or t_ms < 0:
        raise FormatError("t_ms must be a non-negative int, got %s" % repr(t_ms))
    body = bytearray()
    code = _code(EVENTS, event) or NAMED
    if code == SPRINT_TICK and not _packable_tick(fields):
        code = NAMED
    if code == ACCEL_RAW and not _packable_raw(fields):
        code = NAMED
    body.append(code)
    put_varint(body, t_ms)
    if code == SPRINT_TICK:
        put_varint(body, fields["cadence_spm"])
        put_varint(body, int(round(fields["peak_g"] * 100)))
    elif code == ACCEL_RAW:
        _put_raw(body, fields["rate_hz"], fields["samples"])
    else:
        if code == NAMED:
            if not isinstance(event, str):
                raise FormatError("event name %s is not text" % repr(event))
            _put_str(body, event)
        _put_fields(body, fields)
    if len(body) > MAX_BODY:
        raise FormatError("%s record is %d bytes, more than %d" % (event, len(body), MAX_BODY))
    buf = bytearray()
    put_varint(buf, len(body))
    buf.extend(body)
    buf.extend(struct.pack("<I", crc32(buf)))
    return bytes(buf)


def _put_raw(body, rate, samples):
    """Raw samples (flat ax, ay, az, ...): the first as is, then each one's change, zigzag varints."""
    put_varint(body, rate)
    put_varint(body, len(samples) // 3)
    px = py = pz = 0
    for i in range(0, len(samples), 3):
        x, y, z = samples[i], samples[i + 1], samples[i + 2]
        for d in (x - px, y - py, z - pz):
            put_varint(body, d << 1 if d >= 0 else ((-d) << 1) - 1)
        px, py, pz = x, y, z


def _packable_raw(fields):
    if len(fields) != 2:
        return False
    rate = fields.get("rate_hz")
    samples = fields.get("samples")
    try:
        n = len(samples)
    except TypeError:
        return False
    return (isinstance(rate, int) and 0 < rate <= 1000 and n > 0 and n % 3 == 0
            and all(isinstance(v, int) and -32768 <= v <= 32767 for v in samples))


def _packable_tick(fields):
    if len(fields) != 2:
        return False
    c = fields.get("cadence_spm")
    g = fields.get("peak_g")
    return (isinstance(c, int) and not isinstance(c, bool) and 0 <= c
            and _centi(g) is not None and g >= 0)
