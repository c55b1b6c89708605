"""Plan fuzzer: mutated and generated plans through swcore.plan.parse.

Oracles: the parser raises nothing but PlanError; an accepted plan keeps every
documented bound (names valid UTF-8 of at most 48 bytes, durations 1 s..24 h in whole
ms, effort 1-100, cadence floor 0 or 100-240, at most 300 steps), and its names make a
session header the log reader reads back unchanged. Differential: the answer (the
steps, or the error's exact text) is digested, and the driver checks CPython and the
MicroPython unix port give the same digest for the same seed.
"""
from fuzzlib import Rng, Digest, case_hex
from swcore import plan, logformat, utf8
from swcore.default_plan import DEFAULT_PLAN

DIFFERENTIAL = True

TOKENS = (b"NaN", b"Infinity", b"-Infinity", b"1e308", b"1e400", b"-1e400", b"1e-400", b"012", b"-0",
          b"0.0", b"-0.0", b"1.0005", b"86400", b"86400.001", b"0.999", b"1", b"100", b"240", b"241",
          b"99.99", b"2.01", b"1E3", b"1e+2", b"12345678901234567890", b"0.000000000000000000001",
          b"true", b"false", b"null", b"[]", b"{}", b'""', b'"\\ud83c\\udfc3"', b'"\\ud83c"',
          b'"\\udfc3"', b'"\\u0000"', b'"\\/\\b\\f"', b'"\xf0\x9f\x8f\x83"', b'"\xed\xa0\xbc"',
          b'"\xc0\xae"', b'"\xff"', b'"\xe2\x82"', b"[" * 9, b"]" * 3, b"{" * 9, b",", b":", b'"',
          b"\\", b" ", b"\n", b"\xef\xbb\xbf", b'"repeat": 3', b'"repeat": 51', b'"kind": "sprint"',
          b'"cadence_floor_spm": 150', b'"effort_pct": 0.5', b'"name": "' + b"x" * 49 + b'"',
          b'"name": "' + b"\xc3\xa9" * 24 + b'"', b'"note": "' + b"n" * 501 + b'"')

KEYS = ("name", "kind", "duration_s", "max_s", "min_s", "effort_pct", "cadence_floor_spm",
        "note", "measure", "repeat", "steps", "sets", "version", "bogus")


def _dumps(v, rng):
    """JSON text by hand (the runtimes' json.dumps differ), with some odd spellings."""
    if v is None:
        return b"null"
    if v is True:
        return b"true"
    if v is False:
        return b"false"
    if isinstance(v, bytes):            # a number or string spelt exactly
        return v
    if isinstance(v, int):
        return str(v).encode()
    if isinstance(v, str):
        return b'"' + v.encode() + b'"'
    if isinstance(v, list):
        return b"[" + b", ".join(_dumps(x, rng) for x in v) + b"]"
    parts = []
    for k in sorted(v):             # sorted: dict order differs between the runtimes
        parts.append(_dumps(k, rng) + b": " + _dumps(v[k], rng))
    return b"{" + b", ".join(parts) + b"}"


VALID_NUMBERS = (b"1e308", b"1e400", b"-1e400", b"1e-400", b"-0", b"0.0", b"-0.0", b"1.0005", b"86400",
                 b"86400.001", b"0.999", b"1", b"100", b"240", b"241", b"99.99", b"2.01", b"1E3", b"1e+2",
                 b"12345678901234567890", b"0.000000000000000000001", b"1.00000000000000000001")


def _number(rng):
    r = rng.below(20)
    if r < 6:
        return str(rng.between(0, 300)).encode()
    if r < 10:
        return ("%d.%03d" % (rng.between(0, 3000), rng.between(0, 999))).encode()
    if r < 12:
        return ("%de%d" % (rng.between(0, 99), rng.between(-30, 400))).encode()
    if r < 13:
        return rng.pick(TOKENS[:12])        # mostly not JSON numbers
    return rng.pick(VALID_NUMBERS)


def _name(rng):
    r = rng.below(16)
    if r == 0:
        return b'"' + b"y" * rng.between(40, 60) + b'"'
    if r == 1:
        return b'"' + b"\xc3\xa9" * rng.between(20, 30) + b'"'
    if r == 2:
        return rng.pick((b'"\\ud83c\\udfc3 Hill"', b'"\\ud83c"', b'"\xf0\x9f\x8f\x83"', b'"\xed\xa0\xbc"', b'"  "', b'""'))
    return ('"Step %d"' % rng.below(100)).encode()


def _step(rng, depth=0):
    kind = rng.pick(("timed", "open", "sprint", "recovery", "dash"))
    step = {"name": _name(rng), "kind": kind}
    for key in ("duration_s", "max_s", "min_s", "effort_pct", "cadence_floor_spm", "note", "measure"):
        if rng.chance(35):
            step[key] = _number(rng) if key not in ("note", "measure") else rng.pick((b'"slope"', b'"x"', b"5"))
    if kind == "timed" and rng.chance(80):
        step["duration_s"] = _number(rng)
    if kind == "recovery" and rng.chance(80):
        step["min_s"] = _number(rng)
        step["max_s"] = _number(rng)
    if depth == 0 and rng.chance(15):
        return {"repeat": _number(rng) if rng.chance(30) else str(rng.between(1, 8)).encode(),
                "steps": [_step(rng, 1) for _ in range(rng.between(0, 3))]}
    if rng.chance(5):
        step[rng.pick(KEYS)] = _number(rng)
    return step


def generated(rng):
    doc = {"name": _name(rng), "sets": [{"name": _name(rng), "steps": [_step(rng) for _ in range(rng.between(0, 4))]}
                                        for _ in range(rng.between(0, 3))]}
    return _dumps(doc, rng)


def mutated(rng, base):
    data = bytes(base)
    for _ in range(rng.between(1, 4)):
        r = rng.below(5)
        at = rng.below(len(data) + 1)
        if r == 0 and data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([rng.below(256)]) + data[at + 1:]
        elif r == 1:
            data = data[:at] + rng.pick(TOKENS) + data[at:]
        elif r == 2:
            data = data[:at] + data[at + rng.between(1, 20):]
        elif r == 3:
            data = data[:at]
        else:                       # a value replaced by a token
            end = at
            while end < len(data) and data[end] not in b",}]":
                end += 1
            data = data[:at] + rng.pick(TOKENS) + data[end:]
    return data


BASE = None


def _base():
    global BASE
    if BASE is None:
        BASE = _dumps(DEFAULT_PLAN, None)
    return BASE


def check(text):
    """One input: the answer (for the digest), after the oracles."""
    try:
        name, steps = plan.parse(text)
    except plan.PlanError as e:
        msg = str(e)
        assert msg.startswith("plan error: "), msg
        return ("error", msg)
    except Exception as e:
        raise AssertionError("parse raised %s: %s for %r" % (type(e).__name__, e, text))
    assert 0 < len(steps) <= plan.MAX_STEPS
    for s in [name] + [st["name"] for st in steps] + [st["set"] for st in steps]:
        b = s.encode()
        assert utf8.first_bad(b) < 0 and 0 < len(b) <= plan.MAX_NAME, (s, text)
    for st in steps:
        assert st["kind"] in plan.KINDS
        for key in ("duration_ms", "max_ms", "min_ms"):
            if key in st:
                v = st[key]
                assert isinstance(v, int) and 1000 <= v <= 86400000, (key, v, text)
        if "effort_pct" in st:
            assert 1 <= st["effort_pct"] <= 100
        f = st.get("cadence_floor_spm", 0)
        assert f == 0 or 100 <= f <= 240, (f, text)
        if st["kind"] == "recovery":
            assert st["min_ms"] <= st["max_ms"]
    head = logformat.encode_header(1, 1, name, 0, "0.1.0")
    header, _r, problems = logformat.read_session(head)
    assert header is not None and header["plan"] == name and not problems, (name, problems)
    return ("ok", name, steps)


def run(seed, cases, verbose=False):
    """``cases`` inputs from ``seed``; returns the digest of their answers."""
    rng = Rng(seed)
    digest = Digest()
    for i in range(cases):
        r = rng.below(4)
        text = generated(rng) if r < 2 else mutated(rng, _base() if r == 2 else generated(rng))
        answer = check(text)
        digest.add(answer)
        if verbose:
            print("CASE", i, case_hex(answer), "".join("%02x" % b for b in text))
    return digest.hex()
