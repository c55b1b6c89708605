"""Reading session logs (format: docs/log-format.md; writing: swcore.logformat).

Used by the laptop (``sprintwatch log show``), the sync code and the board at boot.
Never raises on damaged input: ``read_session`` reports what it skipped.
"""
import struct

from swcore.logformat import (
    FormatError, MAGIC, VERSION, MAX_BODY, NAMED, EVENTS, SPRINT_TICK, ACCEL_RAW, KEYS, KEY_NAMED, WORDS,
    T_UINT, T_NEG, T_STR, T_WORD, T_FALSE, T_TRUE, T_CENTI, SUB_NONE, SUB_FLOAT, SUB_JSON,
    crc32,
)


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
        try:
            return json.loads(text), pos
        except ValueError:
            raise FormatError("bad JSON value")
    raise FormatError("unknown value sub-type %d" % sub)

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

def _frame_at(data, pos, end):
    """``(body_start, body_end, next_pos)`` of a whole record with a good CRC at
    ``pos``; raises FormatError("truncated") or FormatError("bad CRC")."""
    try:
        n, start = get_varint(data, pos, end)
    except FormatError:
        raise FormatError("truncated")
    if n < 2 or n > MAX_BODY:
        raise FormatError("bad length %d" % n)
    if start + n + 4 > end:
        raise FormatError("truncated")
    want = struct.unpack("<I", bytes(data[start + n:start + n + 4]))[0]
    if crc32(data[pos:start + n]) != want:
        raise FormatError("bad CRC")
    return start, start + n, start + n + 4

def read_session(data):
    """Decode a whole session file. Never raises on bad input.

    Returns ``(header, records, problems)``: the header dict (None when unreadable),
    every record with a good CRC as ``(t_ms, event, fields)``, and one line of text
    per problem (bad CRC and how many bytes were skipped, a truncated tail).
    """
    problems = []
    records = []
    try:
        header, pos = decode_header(data)
    except FormatError as e:
        return None, records, ["header: %s" % e]
    end = len(data)
    while pos < end:
        try:
            start, stop, nxt = _frame_at(data, pos, end)
        except FormatError as e:
            if str(e) == "truncated" and _only_tail(data, pos, end):
                problems.append("truncated: %d bytes at offset %d are not a whole record "
                                "(cut while writing)" % (end - pos, pos))
                break
            resync = _resync(data, pos + 1, end)
            if resync < 0:
                problems.append("%s at offset %d: the last %d bytes skipped" % (e, pos, end - pos))
                break
            problems.append("%s at offset %d: %d bytes skipped" % (e, pos, resync - pos))
            pos = resync
            continue
        try:
            records.append(decode_body(data[start:stop]))
        except FormatError as e:
            problems.append("record at offset %d: %s; skipped" % (pos, e))
        pos = nxt
    return header, records, problems

def _only_tail(data, pos, end):
    """True when no whole record follows ``pos``: a plain truncated tail."""
    return _resync(data, pos + 1, end) < 0

def _resync(data, pos, end):
    """Offset of the next whole record with a good CRC at or after ``pos``, or -1."""
    while pos < end - 5:
        try:
            _frame_at(data, pos, end)
            return pos
        except FormatError:
            pos += 1
    return -1
