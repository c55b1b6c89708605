"""Log fuzzer: random events through the writer, then cuts and damage through the reader.

Oracles: the writer raises nothing but FormatError (an event too big) and every record
it writes reads back exactly (text repaired by the one UTF-8 rule); a file cut
anywhere reads back as exactly the records wholly before the cut, with one
"truncated" problem unless the cut falls between records (exact truncation); after
random damage the reader never raises, every record it returns is one that was
written, in order, and every record the damage did not touch is there (no phantom
record, nothing lost beyond the damage); the streaming reader the board boots with
(logread.scan_file) visits exactly the records read_session returns. Differential:
the reader's answers for the damaged bytes are digested and compared across runtimes.
On CPython every such session also goes through all four exports (host_tools).
"""
import sys

from fuzzlib import Rng, Digest, case_hex
from swcore import logformat as fmt, logread, utf8

DIFFERENTIAL = True
EVENT_NAMES = [e for e in fmt.EVENTS if e] + ["made_up", "raw_capture", "battery", ""]
TEXTS = ("", "Sprint", "Walk Back Recovery", "naïve ✓", "Hill \U0001F3C3", "x" * 200, "tap", "time")

try:
    from io import BytesIO
except ImportError:
    BytesIO = None
try:
    from collections import OrderedDict    # the same bytes on both runtimes: a plain
except ImportError:                        # dict's order differs between them
    from ucollections import OrderedDict


def _lone_surrogate_text():
    """Text holding a lone surrogate, as each runtime can make it."""
    if sys.implementation.name == "micropython":
        return str(b"Hill \xed\xa0\xbc", "utf-8")     # MicroPython lets it through
    return "Hill " + chr(0xD83C)


def _value(rng, depth=0):
    r = rng.below(14)
    if r == 0:
        return rng.below(1000)
    if r == 1:
        return rng.between(-10 ** 6, 10 ** 6)
    if r == 2:
        return rng.below(1 << 62)
    if r == 3:
        return rng.below(100000) / 100
    if r == 4:
        return rng.below(10 ** 9) / 7
    if r == 5:
        return rng.pick(TEXTS)
    if r == 6:
        return _lone_surrogate_text()
    if r == 7:
        return rng.chance(50)
    if r == 8:
        return None
    if r == 9 and depth < 3:
        return [_nested(rng, depth + 1) for _ in range(rng.below(4))]
    if r == 10 and depth < 3:
        d = OrderedDict()
        for i in range(rng.below(3)):
            d["k%d" % i] = _nested(rng, depth + 1)
        return d
    if r == 11:
        return float("inf")
    return rng.pick(fmt.WORDS)


def _nested(rng, depth):
    """A value inside a list or object: json.dumps writes these the same on both
    runtimes (not floats, which they print differently, nor non-ASCII text, which
    CPython escapes), so the fuzzed files are the same bytes on both."""
    v = _value(rng, depth)
    if isinstance(v, float):
        return int(v) if v == v and v not in (float("inf"), float("-inf")) else None
    if isinstance(v, str):
        return "".join(c if ord(c) < 0x80 else "?" for c in v) if utf8.first_bad(utf8.encode(v)) < 0 else "x"
    return v


def _event(rng):
    name = rng.pick(EVENT_NAMES)
    if name == "sprint_tick" and rng.chance(70):
        return name, {"cadence_spm": rng.below(300), "peak_g": rng.below(900) / 100}
    keys = list(fmt.KEYS) + ["other", "naïve", ""]
    fields = OrderedDict()
    for _ in range(rng.below(5)):
        k = rng.pick(keys)
        v = _value(rng)
        if k not in fields:
            fields[k] = v
    if rng.chance(3):
        fields["big"] = "z" * 1100
    return name, fields


def _expected(v):
    """What the reader gives back for a value the writer was given."""
    if isinstance(v, str):
        return str(utf8.encode(v), "utf-8")
    if isinstance(v, list):
        return [_expected(x) for x in v]
    if isinstance(v, dict):
        return {_expected(k): _expected(v[k]) for k in v}
    return v


def _json_safe(v):
    """JSON values (lists, dicts) hold no inf: the runtimes' json differ on it."""
    if isinstance(v, float):
        return v == v and v not in (float("inf"), float("-inf"))
    if isinstance(v, list):
        return all(_json_safe(x) for x in v)
    if isinstance(v, dict):
        return all(_json_safe(v[k]) for k in v)
    return True


def _write(rng):
    """A session file and its records as ``(start, end, record)``."""
    head = fmt.encode_header(rng.below(1000), rng.below(100), rng.pick(TEXTS) or "P", rng.below(1 << 32),
                             "0.1.0", 1790000000 if rng.chance(50) else None, rng.chance(20))
    data = [head]
    pos = len(head)
    spans = []
    t = 0
    for _ in range(rng.between(0, 30)):
        t += rng.below(5000)
        name, fields = _event(rng)
        for k in fields:
            if isinstance(fields[k], (list, dict)) and not _json_safe(fields[k]):
                fields[k] = None
        try:
            rec = fmt.encode_record(t, name, fields)
        except fmt.FormatError:
            continue
        except Exception as e:
            raise AssertionError("encode_record raised %s: %s for %r" % (type(e).__name__, e, (t, name, fields)))
        want = (t, _expected(name), {_expected(k): _expected(fields[k]) for k in fields})
        spans.append((pos, pos + len(rec), want))
        data.append(rec)
        pos += len(rec)
    return b"".join(data), len(head), spans


def _damage(rng, data, start):
    """Flip, insert or delete bytes after the header; returns (bytes, damaged span)."""
    if len(data) <= start:
        return data, (len(data), len(data))
    at = rng.between(start, len(data) - 1)
    r = rng.below(3)
    n = rng.between(1, 40)
    if r == 0:
        junk = rng.bytes(min(n, len(data) - at))
        return data[:at] + junk + data[at + len(junk):], (at, at + len(junk))
    if r == 1:
        return data[:at] + rng.bytes(n) + data[at:], (at, at)
    return data[:at] + data[at + n:], (at, at + n)


def _same(a, b):
    """Records equal, NaN-safe by their canonical bytes."""
    return case_hex(a) == case_hex(b)


def _scan(data):
    got = []
    header, _d, _t = logread.scan_file(BytesIO(data), lambda t, e, f: got.append((t, e, f)), chunk=64 + len(data) % 300)
    return header, got


def _export(header, records):
    if sys.implementation.name != "cpython":
        return
    from host_tools import export
    for f in export.FORMATS:
        export.export_bytes(header, records, f)


def check(rng):
    data, head_len, spans = _write(rng)
    header, records, problems = fmt.read_session(data)
    assert header is not None and problems == [], problems
    assert _same(records, [s[2] for s in spans]), "round trip differs"
    # exact truncation
    cut = rng.between(head_len, len(data))
    _h, got, problems = fmt.read_session(data[:cut])
    whole = [s[2] for s in spans if s[1] <= cut]
    assert _same(got, whole), ("cut", cut)
    boundary = cut == head_len or any(s[1] == cut for s in spans)
    assert (problems == []) if boundary else (len(problems) == 1 and problems[0].startswith("truncated")), (cut, problems)
    # damage
    bad, (a, z) = _damage(rng, data, head_len)
    header, got, problems = fmt.read_session(bad)
    written = [s[2] for s in spans]
    untouched = [s[2] for s in spans if s[1] <= a or s[0] >= z]
    it = 0
    for rec in got:                 # a subsequence of what was written: no phantom record
        while it < len(written) and not _same(written[it], rec):
            it += 1
        assert it < len(written), ("phantom record", rec)
        it += 1
    for rec in untouched:           # (a damaged stretch inside one record can't hide others)
        assert any(_same(rec, g) for g in got), ("lost an untouched record", rec, a, z)
    if BytesIO is not None:
        sh, visited = _scan(bad)
        assert _same(visited, got), "scan_file and read_session differ"
    _export(header, got)
    return (header, got, problems)


def run(seed, cases, verbose=False):
    rng = Rng(seed)
    digest = Digest()
    for i in range(cases):
        answer = check(rng)
        digest.add(answer)
        if verbose:
            print("CASE", i, case_hex(answer))
    return digest.hex()
