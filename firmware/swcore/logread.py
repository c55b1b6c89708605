"""Reading session logs (format: docs/log-format.md; writing: swcore.logformat).

Used by the laptop (``sprintwatch log show``), the sync code and the board at boot.
Total: ``read_session`` never raises on any bytes (every exception a record's bytes
cause is a reported skip), text must be valid UTF-8 by the one rule of swcore.utf8,
JSON values are nested at most MAX_JSON_DEPTH deep, and damage is skipped in time
linear in its length. ``scan_file`` streams a file record by record in constant RAM.
"""
import struct

from swcore.utf8 import clean, first_bad

from swcore.logformat import (
    FormatError, MAGIC, VERSION, MAX_BODY, NAMED, EVENTS, SPRINT_TICK, ACCEL_RAW, KEYS, KEY_NAMED, WORDS,
    T_UINT, T_NEG, T_STR, T_WORD, T_FALSE, T_TRUE, T_CENTI, SUB_NONE, SUB_FLOAT, SUB_JSON,
    crc32,
)

MAX_JSON_DEPTH = 16


def get_varint(data, pos, end):
    """Return ``(value, next_pos)``; FormatError when it runs past ``end``."""
    n = 0
    shift = 0
    while True:
        if pos >= end:
            raise FormatError("varint runs past the end")
        b = data[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            return n, pos
        shift += 7
        if shift > 63:
            raise FormatError("varint too long")

def _get_str(data, pos, end):
    n, pos = get_varint(data, pos, end)
    if pos + n > end:
        raise FormatError("text runs past the end")
    if first_bad(data, pos, pos + n) >= 0:   # MicroPython's str() would let some through
        raise FormatError("text is not UTF-8")
    try:
        return str(bytes(data[pos:pos + n]), "utf-8"), pos + n
    except UnicodeError:
        raise FormatError("text is not UTF-8")

def _get_value(data, pos, end, vtype):
    if vtype == T_UINT:
        return get_varint(data, pos, end)
    if vtype == T_NEG:
        n, pos = get_varint(data, pos, end)
        return -n - 1, pos
    if vtype == T_STR:
        return _get_str(data, pos, end)
    if vtype == T_WORD:
        n, pos = get_varint(data, pos, end)
        if n >= len(WORDS):
            raise FormatError("unknown word code %d" % n)
        return WORDS[n], pos
    if vtype == T_FALSE:
        return False, pos
    if vtype == T_TRUE:
        return True, pos
    if vtype == T_CENTI:
        z, pos = get_varint(data, pos, end)
        c = (z >> 1) ^ -(z & 1)
        return c / 100, pos
    if pos >= end:
        raise FormatError("value runs past the end")
    sub = data[pos]
    pos += 1
    if sub == SUB_NONE:
        return None, pos
    if sub == SUB_FLOAT:
        if pos + 8 > end:
            raise FormatError("float runs past the end")
        return struct.unpack("<d", bytes(data[pos:pos + 8]))[0], pos + 8
    if sub == SUB_JSON:
        import json
        text, pos = _get_str(data, pos, end)
        if _json_depth(text) > MAX_JSON_DEPTH:
            raise FormatError("JSON value nested more than %d deep" % MAX_JSON_DEPTH)
        try:
            value = json.loads(text)
        except ValueError:
            raise FormatError("bad JSON value")
        return clean(value), pos    # a \ud83c escape: the same repaired text on every runtime
    raise FormatError("unknown value sub-type %d" % sub)

def _json_depth(text):
    """How deep the lists and objects of JSON ``text`` nest (brackets in strings not counted)."""
    depth = deepest = 0
    in_str = escaped = False
    for ch in text:
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "[" or ch == "{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif ch == "]" or ch == "}":
            depth -= 1
    return deepest


def _get_fields(data, pos, end):
    fields = {}
    while pos < end:
        tag = data[pos]
        pos += 1
        code = tag >> 3
        if code == KEY_NAMED:
            key, pos = _get_str(data, pos, end)
        elif code < len(KEYS):
            key = KEYS[code]
        else:
            raise FormatError("unknown field code %d" % code)
        fields[key], pos = _get_value(data, pos, end, tag & 7)
    return fields

def decode_header(data):
    """Return ``(header dict, size in bytes)``; FormatError says what is wrong."""
    end = len(data)
    if end < 5:
        raise FormatError("file too short for a header (%d bytes)" % end)
    if bytes(data[0:4]) != MAGIC:
        raise FormatError("not a session log (magic %s)" % repr(bytes(data[0:4])))
    if data[4] != VERSION:
        raise FormatError("format version %d, this reader knows %d" % (data[4], VERSION))
    n, pos = get_varint(data, 5, end)
    if n > MAX_BODY or pos + n + 4 > end:
        raise FormatError("header truncated")
    want = struct.unpack("<I", bytes(data[pos + n:pos + n + 4]))[0]
    if crc32(data[0:pos + n]) != want:
        raise FormatError("header CRC mismatch")
    header = _get_fields(data, pos, pos + n)
    header["format"] = data[4]
    return header, pos + n + 4

def _get_raw(body, pos, end):
    rate, pos = get_varint(body, pos, end)
    n, pos = get_varint(body, pos, end)
    samples = []
    x = y = z = 0
    for _ in range(n):
        d = []
        for _axis in range(3):
            v, pos = get_varint(body, pos, end)
            d.append(-((v + 1) >> 1) if v & 1 else v >> 1)
        x += d[0]
        y += d[1]
        z += d[2]
        samples.append([x, y, z])
    if pos != end:
        raise FormatError("accel_raw has %d extra bytes" % (end - pos))
    return {"rate_hz": rate, "samples": samples}


def decode_body(body):
    """``(t_ms, event, fields)`` from a record body (CRC already checked)."""
    end = len(body)
    if end < 2:
        raise FormatError("record body too short")
    code = body[0]
    t, pos = get_varint(body, 1, end)
    if code == SPRINT_TICK:
        cadence, pos = get_varint(body, pos, end)
        centi, pos = get_varint(body, pos, end)
        if pos != end:
            raise FormatError("sprint_tick has %d extra bytes" % (end - pos))
        return t, "sprint_tick", {"cadence_spm": cadence, "peak_g": centi / 100}
    if code == ACCEL_RAW:
        return t, "accel_raw", _get_raw(body, pos, end)
    if code == NAMED:
        event, pos = _get_str(body, pos, end)
    elif code < len(EVENTS):
        event = EVENTS[code]
    else:
        raise FormatError("unknown record type %d" % code)
    return t, event, _get_fields(body, pos, end)

# Why the bytes at an offset are not a whole record (frame_len's negative answers).
TRUNCATED = -1
BAD_LENGTH = -2
BAD_CRC = -3
_WHY = {TRUNCATED: "truncated", BAD_LENGTH: "bad length", BAD_CRC: "bad CRC"}


def frame_len(data, pos, end, known_only=False):
    """Bytes of the whole record with a good CRC at ``pos`` (length, body, CRC), or
    TRUNCATED (it would run past ``end``), BAD_LENGTH or BAD_CRC. Never raises and
    copies nothing, so scanning damage byte by byte stays cheap: with ``known_only``
    (while resynchronising) most offsets fail on the length or the record type before
    any CRC is computed. (At a record boundary a type this reader does not know is
    still framed, and reported as a skipped record.)"""
    n = 0
    shift = 0
    p = pos
    while True:
        if p >= end:
            return TRUNCATED
        b = data[p]
        p += 1
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            break
        shift += 7
        if shift > 14:            # MAX_BODY needs 2 bytes
            return BAD_LENGTH
    if n < 2 or n > MAX_BODY:
        return BAD_LENGTH
    if p + n + 4 > end:
        return TRUNCATED
    if known_only and data[p] >= len(EVENTS):
        return BAD_CRC            # no record type this reader knows: not worth a CRC here
    stop = p + n
    want = data[stop] | data[stop + 1] << 8 | data[stop + 2] << 16 | data[stop + 3] << 24
    if crc32(memoryview(data)[pos:stop]) != want:
        return BAD_CRC
    return stop + 4 - pos


def read_session(data):
    """Decode a whole session file. Never raises, whatever the bytes.

    Returns ``(header, records, problems)``: the header dict (None when unreadable),
    every record with a good CRC as ``(t_ms, event, fields)``, and one line of text
    per problem (bad CRC and how many bytes were skipped, a truncated tail, a record
    whose body does not decode).
    """
    problems = []
    records = []
    try:
        header, pos = decode_header(data)
    except Exception as e:     # FormatError, or anything else bytes can cause
        return None, records, ["header: %s" % _why(e)]
    end = len(data)
    while pos < end:
        n = frame_len(data, pos, end)
        if n > 0:
            _decode_into(records, problems, data, pos, n)
            pos += n
            continue
        nxt = _resync(data, pos + 1, end)
        if nxt < 0:
            if n == TRUNCATED:
                problems.append("truncated: %d bytes at offset %d are not a whole record "
                                "(cut while writing)" % (end - pos, pos))
            else:
                problems.append("%s at offset %d: the last %d bytes skipped" % (_WHY[n], pos, end - pos))
            break
        problems.append("%s at offset %d: %d bytes skipped" % (_WHY[n], pos, nxt - pos))
        pos = nxt
    return header, records, problems


def _why(e):
    if isinstance(e, FormatError):
        return str(e)
    return "%s: %s" % (type(e).__name__, e)


def _decode_into(records, problems, data, pos, n):
    """Append the record framed at ``pos`` (``n`` bytes, CRC good) or say why it is skipped."""
    _, start = get_varint(data, pos, pos + n)
    try:
        records.append(decode_body(data[start:pos + n - 4]))
    except Exception as e:     # every exception a body's bytes cause is a skip
        problems.append("record at offset %d: %s; skipped" % (pos, _why(e)))


def _resync(data, pos, end):
    """Offset of the next whole record with a good CRC at or after ``pos``, or -1."""
    while pos < end - 5:
        if frame_len(data, pos, end, True) > 0:
            return pos
        pos += 1
    return -1


def scan_file(f, visit, chunk=1024):
    """Stream the session file open as ``f`` record by record, in constant RAM
    whatever its length: ``visit(t_ms, event, fields)`` for each record that
    decodes, exactly those ``read_session`` returns. Returns ``(header, damaged,
    truncated)``: the header dict (None when unreadable: nothing visited), how many
    damaged stretches or undecodable records were skipped, and whether the file ends
    in a torn record. Damage is skipped in time linear in its length, the file read once."""
    window = MAX_BODY + 16          # the most one record needs
    buf = f.read(window + chunk)
    try:
        header, pos = decode_header(buf)
    except Exception:
        return None, 0, False
    eof = len(buf) < window + chunk
    damaged = 0
    truncated = False
    resyncing = False
    while True:
        if not eof and len(buf) - pos < window:
            more = f.read(window + chunk)
            eof = len(more) < window + chunk
            buf = buf[pos:] + more
            pos = 0
        end = len(buf)
        if pos >= end:
            break
        n = frame_len(buf, pos, end, resyncing)
        if n > 0:
            resyncing = False
            _, start = get_varint(buf, pos, end)
            try:
                t, event, fields = decode_body(buf[start:pos + n - 4])
            except Exception:
                damaged += 1
            else:
                visit(t, event, fields)
            pos += n
            continue
        if not resyncing and n != TRUNCATED:
            damaged += 1
        if not eof:                 # step on: the window refills, so a record is never cut
            resyncing = True
            pos += 1
            continue
        nxt = _resync(buf, pos + 1, end)
        if nxt < 0:
            truncated = n == TRUNCATED and not resyncing
            break
        if n == TRUNCATED and not resyncing:
            damaged += 1
        resyncing = False
        pos = nxt
    return header, damaged, truncated
