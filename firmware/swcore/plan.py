"""Session plans: parse, validate and flatten a JSON plan into a list of steps.

The format is documented in docs/plan-format.md. The same module runs on the board
(MicroPython, CircuitPython) and on the laptop (`sprintwatch plan check`), so a plan
the laptop accepts is exactly a plan the device accepts.
"""
import json

KINDS = ("timed", "open", "sprint", "recovery")
MEASURES = ("slope",)   # what an open step may measure while it waits (docs/plan-format.md)
DEFAULT_SPRINT_MAX_S = 45
MAX_REPEAT = 50
MAX_STEPS = 300
MAX_NAME = 48

# Fields each kind may carry, beyond name/kind/note/effort_pct.
_KIND_FIELDS = {
    "timed": ("duration_s",),
    "open": ("measure",),
    "sprint": ("max_s", "cadence_floor_spm"),
    "recovery": ("min_s", "max_s"),
}
_COMMON_FIELDS = ("name", "kind", "note", "effort_pct")


class PlanError(ValueError):
    """A plan that cannot run; the message names the set, step and field."""


def _where(set_no, set_name, step_no=None, step_name=None, field=None):
    parts = []
    if set_no is not None:
        parts.append("set %d %s" % (set_no, repr(set_name) if set_name else "(unnamed)"))
    if step_no is not None:
        parts.append("step %d %s" % (step_no, repr(step_name) if step_name else "(unnamed)"))
    if field is not None:
        parts.append("field %s" % repr(field))
    return ", ".join(parts) if parts else "plan"


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _positive(v):
    return _is_number(v) and v > 0


class _Checker:
    def __init__(self):
        self.set_no = None
        self.set_name = None

    def fail(self, step_no, step_name, field, msg):
        raise PlanError("plan error: %s: %s" % (
            _where(self.set_no, self.set_name, step_no, step_name, field), msg))

    def text(self, obj, key, step_no, step_name, required):
        v = obj.get(key)
        if v is None:
            if required:
                self.fail(step_no, step_name, key, "is missing")
            return ""
        if not isinstance(v, str):
            self.fail(step_no, step_name, key, "must be text, got %s" % _type_name(v))
        if key == "name" and not v.strip():
            self.fail(step_no, step_name, key, "must not be empty")
        if key == "name" and len(v) > MAX_NAME:
            self.fail(step_no, step_name, key, "is longer than %d characters" % MAX_NAME)
        return v

    def seconds(self, obj, key, step_no, step_name, required, default=None):
        if key not in obj:
            if required:
                self.fail(step_no, step_name, key, "is missing")
            return default
        v = obj[key]
        if not _is_number(v):
            self.fail(step_no, step_name, key, "must be a number of seconds, got %s" % _type_name(v))
        if v <= 0:
            self.fail(step_no, step_name, key, "must be greater than 0, got %s" % v)
        return v


def _type_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true/false"
    if isinstance(v, str):
        return "text"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def _step(chk, raw, step_no, set_name, out, rep, of):
    if not isinstance(raw, dict):
        chk.fail(step_no, None, None, "must be an object, got %s" % _type_name(raw))
    name = raw.get("name") if isinstance(raw.get("name"), str) else None
    kind = raw.get("kind")
    if kind is None:
        chk.fail(step_no, name, "kind", "is missing (one of %s)" % ", ".join(KINDS))
    if kind not in KINDS:
        chk.fail(step_no, name, "kind", "unknown kind %s (one of %s)" % (repr(kind), ", ".join(KINDS)))
    allowed = _COMMON_FIELDS + _KIND_FIELDS[kind]
    for key in raw:
        if key not in allowed:
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
        e = raw["effort_pct"]
        if not _is_number(e) or e <= 0 or e > 100:
            chk.fail(step_no, name, "effort_pct", "must be a number from 1 to 100, got %s" % repr(e))
        step["effort_pct"] = e
    if "measure" in raw:
        m = raw["measure"]
        if m not in MEASURES:
            chk.fail(step_no, name, "measure", "unknown measurement %s (one of %s)" % (repr(m), ", ".join(MEASURES)))
        step["measure"] = m
    if kind == "timed":
        step["duration_ms"] = int(chk.seconds(raw, "duration_s", step_no, name, True) * 1000)
    elif kind == "sprint":
        step["max_ms"] = int(chk.seconds(raw, "max_s", step_no, name, False, DEFAULT_SPRINT_MAX_S) * 1000)
        floor = chk.seconds(raw, "cadence_floor_spm", step_no, name, False, 0)
        step["cadence_floor_spm"] = floor
    elif kind == "recovery":
        lo = chk.seconds(raw, "min_s", step_no, name, True)
        hi = chk.seconds(raw, "max_s", step_no, name, True)
        if hi < lo:
            chk.fail(step_no, name, "max_s", "must not be less than min_s (%s), got %s" % (lo, hi))
        step["min_ms"] = int(lo * 1000)
        step["max_ms"] = int(hi * 1000)
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
    if isinstance(doc, (bytes, bytearray)):
        doc = doc.decode()
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError as e:
            raise PlanError("plan error: not valid JSON (%s)" % e)
    chk = _Checker()
    if not isinstance(doc, dict):
        raise PlanError("plan error: the plan must be a JSON object, got %s" % _type_name(doc))
    for key in doc:
        if key not in ("name", "sets", "note", "version", "capture"):
            raise PlanError("plan error: field %s: is not a plan field (allowed: name, sets, note, version, capture)"
                            % repr(key))
    if "capture" in doc and not isinstance(doc["capture"], bool):
        raise PlanError("plan error: field 'capture': must be true or false, got %s" % _type_name(doc["capture"]))
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PlanError("plan error: field 'name': the plan needs a name (text)")
    sets = doc.get("sets")
    if not isinstance(sets, list):
        raise PlanError("plan error: field 'sets': must be a list of sets, got %s" % _type_name(sets))
    if not sets:
        raise PlanError("plan error: field 'sets': the plan has no sets")
    steps = []
    for set_no, raw_set in enumerate(sets, 1):
        chk.set_no = set_no
        chk.set_name = None
        if not isinstance(raw_set, dict):
            chk.fail(None, None, None, "must be an object, got %s" % _type_name(raw_set))
        chk.set_name = raw_set.get("name") if isinstance(raw_set.get("name"), str) else None
        for key in raw_set:
            if key not in ("name", "note", "steps"):
                chk.fail(None, None, key, "is not a set field (allowed: name, note, steps)")
        set_name = chk.text(raw_set, "name", None, None, True)
        raw_steps = raw_set.get("steps")
        if not isinstance(raw_steps, list):
            chk.fail(None, None, "steps", "must be a list of steps, got %s" % _type_name(raw_steps))
        if not raw_steps:
            chk.fail(None, None, "steps", "the set is empty")
        for step_no, raw in enumerate(raw_steps, 1):
            if isinstance(raw, dict) and "repeat" in raw:
                _repeat(chk, raw, step_no, set_name, steps)
            else:
                _step(chk, raw, step_no, set_name, steps, 0, 0)
    return name, steps


def _repeat(chk, raw, step_no, set_name, steps):
    label = "repeat block"
    for key in raw:
        if key not in ("repeat", "steps", "name"):
            chk.fail(step_no, label, key, "is not a field of a repeat block (allowed: repeat, steps)")
    n = raw["repeat"]
    if not isinstance(n, int) or isinstance(n, bool) or n < 1 or n > MAX_REPEAT:
        chk.fail(step_no, label, "repeat", "must be a whole number from 1 to %d, got %s" % (MAX_REPEAT, repr(n)))
    inner = raw.get("steps")
    if not isinstance(inner, list):
        chk.fail(step_no, label, "steps", "must be a list of steps, got %s" % _type_name(inner))
    if not inner:
        chk.fail(step_no, label, "steps", "the repeat block is empty")
    for rep in range(1, n + 1):
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
