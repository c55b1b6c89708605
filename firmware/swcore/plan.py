"""Session plans: parse, validate and flatten a JSON plan into a list of steps.

The format is documented in docs/plan-format.md. The same module runs on the board
(MicroPython, CircuitPython) and on the laptop (`sprintwatch plan check`), so a plan
the laptop accepts is exactly a plan the device accepts.

Every outside value is bounded here (docs/plan-format.md, "Limits"): the JSON is read
by swcore.planjson (strict, at most 16 KiB, nested at most 8 deep, the same on every
runtime), names are valid UTF-8 of at most MAX_NAME bytes, and every number is finite
and inside its documented range.
"""
import sys

_CPYTHON = sys.implementation.name == "cpython"   # (text read from JSON is valid by
                                                 # swcore.planjson on every runtime)


class _NoNum:
    """Stands for swcore.planjson.Num until a text plan is read (nothing is one)."""
    value = None
    text = ""

    def milli(self):
        return None


_Num = _NoNum    # swcore.planjson.Num once a plan is read from text: imported only then,
                 # so the built-in plan (a dict) costs the board no JSON reader in RAM

TYPE_CHECKING = False
if TYPE_CHECKING:                       # make typecheck: fail() never returns
    from typing import NoReturn

KINDS = ("timed", "open", "sprint", "recovery")
MEASURES = ("slope",)   # what an open step may measure while it waits (docs/plan-format.md)
DEFAULT_SPRINT_MAX_S = 45
MAX_REPEAT = 50
MAX_STEPS = 300
MAX_PLAN_BYTES = 16384   # = swcore.planjson.MAX_BYTES
MAX_NAME = 48            # bytes of UTF-8, for the plan, set and step names
MAX_NOTE = 500           # bytes of UTF-8, for notes
MIN_SECONDS = 1          # every duration: 1 s to 24 h
MAX_SECONDS = 86400
MIN_EFFORT = 1
MAX_EFFORT = 100
MIN_FLOOR = 100          # cadence floor: 0 (off) or 100-240 steps a minute
MAX_FLOOR = 240
MIN_DISTANCE_M = 1       # a sprint's length (exports give its laps distance and pace)
MAX_DISTANCE_M = 2000
LEVELS = ("beginner", "intermediate", "advanced")

# Fields each kind may carry, beyond name/kind/note/effort_pct.
_KIND_FIELDS = {
    "timed": ("duration_s",),
    "open": ("measure",),
    "sprint": ("max_s", "cadence_floor_spm", "distance_m"),
    "recovery": ("min_s", "max_s"),
}
_COMMON_FIELDS = ("name", "kind", "note", "effort_pct")


def _msg(name, *args):
    """A part of an error message, from swcore.planjson: loaded only for a text plan
    or an error, so the built-in plan costs the board none of this code."""
    from swcore import planjson
    return getattr(planjson, name)(*args)


class PlanError(ValueError):
    """A plan that cannot run; the message names the set, step and field."""


def _is_number(v):
    """A number from JSON (planjson.Num) or Python; NaN and infinities are not numbers here."""
    if isinstance(v, _Num):
        return True
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _num(v):
    """The value of a number (None when it is out of every plan range: too many digits,
    too big, not finite)."""
    if isinstance(v, _Num):
        return v.value
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return None
    return v


def _first_unknown(obj, allowed):
    """The first field (in sorted order: the same on every runtime) not in ``allowed``."""
    bad = [k for k in obj if k not in allowed]
    if not bad:
        return None
    bad.sort()
    return bad[0]


class _Checker:
    def __init__(self):
        self.set_no = None
        self.set_name = None

    def fail(self, step_no, step_name, field, msg):
        # type: (int, str, str, str) -> NoReturn
        raise PlanError("plan error: %s: %s" % (
            _msg("where", self.set_no, self.set_name, step_no, step_name, field), msg))

    def text(self, obj, key, step_no, step_name, required):
        v = obj.get(key)
        if v is None:
            if required:
                self.fail(step_no, step_name, key, "is missing")
            return ""
        if not isinstance(v, str):
            self.fail(step_no, step_name, key, "must be text, got %s" % _msg("type_name", v))
        if key == "name" and not v.strip():
            self.fail(step_no, step_name, key, "must not be empty")
        limit = MAX_NAME if key == "name" else MAX_NOTE
        if len(v) * 4 > limit or _CPYTHON:    # (shorter text cannot be too long: no copy)
            try:
                n = len(v.encode())
            except UnicodeError:          # a dict on CPython may hold a lone surrogate
                n = -1
            if n < 0:
                self.fail(step_no, step_name, key, "is not valid text (a lone surrogate)")
            if n > limit:
                self.fail(step_no, step_name, key, "is %d bytes of UTF-8, more than %d" % (n, limit))
        return v

    def seconds(self, obj, key, step_no, step_name, required, default=None):
        if key not in obj:
            if required:
                self.fail(step_no, step_name, key, "is missing")
            return default
        v = obj[key]
        if not _is_number(v):
            self.fail(step_no, step_name, key, "must be a number of seconds, got %s" % _msg("type_name", v))
        n = _num(v)
        if n is None or n < MIN_SECONDS or n > MAX_SECONDS:
            self.fail(step_no, step_name, key, "must be from %d to %d seconds (24 h), got %s" % (
                MIN_SECONDS, MAX_SECONDS, _msg("show", v)))
        return v

    def ms(self, obj, key, step_no, step_name, required, default_s=None):
        """A duration field (checked by ``seconds``) in whole milliseconds."""
        if key not in obj and not required:
            return (default_s or 0) * 1000
        v = self.seconds(obj, key, step_no, step_name, required)
        return v.milli() if isinstance(v, _Num) else int(v * 1000)   # exact from the digits

    def number(self, obj, key, step_no, step_name, lo, hi, off=None):
        """A number field within ``lo``..``hi`` (or equal to ``off``); its plain value."""
        v = obj[key]
        n = _num(v) if _is_number(v) else None
        if n is None or not (lo <= n <= hi or (off is not None and n == off)):
            what = "a number from %d to %d" % (lo, hi)
            if off is not None:
                what = "%s, or %d (off)" % (what, off)
            self.fail(step_no, step_name, key, "must be %s, got %s" % (what, _msg("show", v)))
        return n


def _step(chk, raw, step_no, set_name, out, rep, of):
    if not isinstance(raw, dict):
        chk.fail(step_no, None, None, "must be an object, got %s" % _msg("type_name", raw))
    name = raw.get("name") if isinstance(raw.get("name"), str) else None
    kind = raw.get("kind")
    if kind is None:
        chk.fail(step_no, name, "kind", "is missing (one of %s)" % ", ".join(KINDS))
    if kind not in KINDS:
        chk.fail(step_no, name, "kind", "unknown kind %s (one of %s)" % (_msg("show", kind), ", ".join(KINDS)))
    allowed = _COMMON_FIELDS + _KIND_FIELDS[kind]
    key = _first_unknown(raw, allowed)
    if key is not None:
        chk.fail(step_no, name, key, "is not a field of a %s step (allowed: %s)" % (kind, ", ".join(allowed)))
    name = chk.text(raw, "name", step_no, name, True)
    step = {
        "set": set_name,
        "name": name,
        "kind": kind,
        "note": chk.text(raw, "note", step_no, name, False),
        "index": len(out),
    }
    if "effort_pct" in raw:
        step["effort_pct"] = chk.number(raw, "effort_pct", step_no, name, MIN_EFFORT, MAX_EFFORT)
    if "measure" in raw:
        m = raw["measure"]
        if m not in MEASURES:
            chk.fail(step_no, name, "measure", "unknown measurement %s (one of %s)" % (_msg("show", m), ", ".join(MEASURES)))
        step["measure"] = m
    if kind == "timed":
        step["duration_ms"] = chk.ms(raw, "duration_s", step_no, name, True)
    elif kind == "sprint":
        step["max_ms"] = chk.ms(raw, "max_s", step_no, name, False, DEFAULT_SPRINT_MAX_S)
        floor = 0
        if "cadence_floor_spm" in raw:
            floor = chk.number(raw, "cadence_floor_spm", step_no, name, MIN_FLOOR, MAX_FLOOR, 0)
        step["cadence_floor_spm"] = floor
        if "distance_m" in raw:
            step["distance_m"] = chk.number(raw, "distance_m", step_no, name, MIN_DISTANCE_M, MAX_DISTANCE_M)
    elif kind == "recovery":
        lo = chk.ms(raw, "min_s", step_no, name, True)
        hi = chk.ms(raw, "max_s", step_no, name, True)
        if hi < lo:
            chk.fail(step_no, name, "max_s", "must not be less than min_s (%s), got %s" % (
                _msg("show", raw["min_s"]), _msg("show", raw["max_s"])))
        step["min_ms"] = lo
        step["max_ms"] = hi
    if rep:
        step["rep"] = rep
        step["of"] = of
    out.append(step)
    if len(out) > MAX_STEPS:
        chk.fail(step_no, name, None, "the plan expands to more than %d steps" % MAX_STEPS)


def parse(doc):
    """Validate a plan (JSON text, bytes or an already-decoded dict).

    Returns ``(name, steps)`` where steps is the flat list the engine runs: each
    step a dict with set, name, kind, note, index and the kind's limits in ms.
    Raises PlanError naming the set, step and field of the first problem.
    """
    if isinstance(doc, (bytes, bytearray, str)):
        if not doc:
            raise PlanError("plan error: the plan is empty (no JSON at all)")
        global _Num
        from swcore import planjson
        _Num = planjson.Num
        try:
            doc = planjson.loads(doc)
        except planjson.JSONError as e:
            raise PlanError("plan error: not valid JSON (%s)" % e)
    chk = _Checker()
    if not isinstance(doc, dict):
        raise PlanError("plan error: the plan must be a JSON object, got %s" % _msg("type_name", doc))
    key = _first_unknown(doc, _PLAN_FIELDS)
    if key is not None:
        raise PlanError("plan error: field %s: is not a plan field (allowed: %s)" % (_msg("quote", key), ", ".join(_PLAN_FIELDS)))
    if "level" in doc and doc["level"] not in LEVELS:
        raise PlanError("plan error: field 'level': must be one of %s, got %s" % (", ".join(LEVELS), _msg("show", doc["level"])))
    if "capture" in doc and not isinstance(doc["capture"], bool):
        raise PlanError("plan error: field 'capture': must be true or false, got %s" % _msg("type_name", doc["capture"]))
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PlanError("plan error: field 'name': the plan needs a name (text)")
    chk.text(doc, "name", None, None, True)
    if "note" in doc and isinstance(doc["note"], str):
        chk.text(doc, "note", None, None, False)
    sets = doc.get("sets")
    if not isinstance(sets, list):
        raise PlanError("plan error: field 'sets': must be a list of sets, got %s" % _msg("type_name", sets))
    if not sets:
        raise PlanError("plan error: field 'sets': the plan has no sets")
    steps = []
    for set_no, raw_set in enumerate(sets, 1):
        chk.set_no = set_no
        chk.set_name = None
        if not isinstance(raw_set, dict):
            chk.fail(None, None, None, "must be an object, got %s" % _msg("type_name", raw_set))
        chk.set_name = raw_set.get("name") if isinstance(raw_set.get("name"), str) else None
        key = _first_unknown(raw_set, ("name", "note", "steps"))
        if key is not None:
            chk.fail(None, None, key, "is not a set field (allowed: name, note, steps)")
        set_name = chk.text(raw_set, "name", None, None, True)
        raw_steps = raw_set.get("steps")
        if not isinstance(raw_steps, list):
            chk.fail(None, None, "steps", "must be a list of steps, got %s" % _msg("type_name", raw_steps))
        if not raw_steps:
            chk.fail(None, None, "steps", "the set is empty")
        for step_no, raw in enumerate(raw_steps, 1):
            if isinstance(raw, dict) and "repeat" in raw:
                _repeat(chk, raw, step_no, set_name, steps)
            else:
                _step(chk, raw, step_no, set_name, steps, 0, 0)
    if "form_guard" in doc:
        guard = _form_guard(doc["form_guard"])
        for step in steps:
            if step["kind"] == "sprint":
                step["guard"] = guard     # None: off; a tuple: the bounds (swcore.formguard)
    return name, steps


_PLAN_FIELDS = ("name", "sets", "note", "version", "level", "form_guard", "capture")


def _form_guard(raw):
    """``form_guard``: false (off), true (the defaults) or an object of bounds -> None or a tuple."""
    from swcore.formguard import bounds_from_plan   # only for plans that set it
    try:
        return bounds_from_plan(raw)
    except ValueError as e:
        raise PlanError("plan error: field 'form_guard'%s" % e)


def _repeat(chk, raw, step_no, set_name, steps):
    label = "repeat block"
    key = _first_unknown(raw, ("repeat", "steps", "name"))
    if key is not None:
        chk.fail(step_no, label, key, "is not a field of a repeat block (allowed: repeat, steps)")
    n = raw["repeat"]
    if isinstance(n, _Num):
        n = n.value
    if not isinstance(n, int) or isinstance(n, bool) or n < 1 or n > MAX_REPEAT:
        chk.fail(step_no, label, "repeat", "must be a whole number from 1 to %d, got %s" % (MAX_REPEAT, _msg("show", raw["repeat"])))
    inner = raw.get("steps")
    if not isinstance(inner, list):
        chk.fail(step_no, label, "steps", "must be a list of steps, got %s" % _msg("type_name", inner))
    if not inner:
        chk.fail(step_no, label, "steps", "the repeat block is empty")
    for rep in range(1, int(n) + 1):            # n is an int here (checked above)
        for sub_no, sub in enumerate(inner, 1):
            if isinstance(sub, dict) and "repeat" in sub:
                chk.fail(step_no, label, "steps", "repeat blocks cannot be nested")
            _step_in_block(chk, sub, step_no, sub_no, set_name, steps, rep, n)


def _step_in_block(chk, sub, step_no, sub_no, set_name, steps, rep, n):
    try:
        _step(chk, sub, sub_no, set_name, steps, rep, n)
    except PlanError as e:
        msg = str(e).replace("step %d " % sub_no, "step %d (repeat block), inner step %d " % (step_no, sub_no), 1)
        raise PlanError(msg)


def plan_hash(text):
    """CRC-32 of the plan text: names a plan in logs without storing it."""
    import binascii
    if isinstance(text, str):
        text = text.encode()
    return binascii.crc32(text) & 0xFFFFFFFF
