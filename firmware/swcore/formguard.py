"""Form-drop guard: each sprint rep against the best of the session's first reps.

The seed asks for "control and form" and lower volume "until you are confident in
your form": when later reps fall apart, the device says so. A rep *degrades* when
its cadence falls by ``cadence_drop_pct`` or more against the best (highest) cadence
of the first ``baseline_reps`` reps with a run, AND at least one other figure moved
the wrong way past its bound at the same time: the run took ``duration_rise_pct``
longer than the shortest early run, the peak impact rose ``impact_rise_pct`` over
the softest early one, or the ground-contact proxy (``contact_ms``, when the motion
pipeline gives it) grew ``contact_rise_pct``. One figure alone moves with a gust, a
stumble at the start or a different line down the slope; two together is form.
Steps per second stands in for the cadence when a rep has no cadence figure.

Only reps with a run count (a rep nobody ran, or one skipped, changes nothing).
``check`` runs once per rep (it may allocate); nothing here runs per sample.
Bounds and defaults: docs/plan-format.md, "Form-drop guard".
"""

# (cadence_drop_pct, duration_rise_pct, impact_rise_pct, contact_rise_pct,
#  baseline_reps, offer_after): offer to end the set after this many drops in a row
DEFAULTS = (8, 15, 20, 15, 2, 2)
FIELDS = ("cadence_drop_pct", "duration_rise_pct", "impact_rise_pct", "contact_rise_pct",
          "baseline_reps", "offer_after")
# Allowed range of each field (plan.py checks plans against these).
LIMITS = ((1, 50), (1, 100), (1, 200), (1, 100), (1, 5), (0, 10))


def bounds_from_plan(raw):
    """A plan's ``form_guard`` -> None (off) or the bounds tuple; ValueError says what is
    wrong (after the field name: plan.py puts it in its one-line message)."""
    if raw is False:
        return None
    if raw is True:
        return DEFAULTS
    if not isinstance(raw, dict):
        raise ValueError(": must be true, false or an object of bounds, got %s" % (
            "text" if isinstance(raw, str) else "a list" if isinstance(raw, list) else repr(raw)))
    out = [int(v) for v in DEFAULTS]
    for key in raw:
        if key not in FIELDS:
            raise ValueError(", %s: is not a bound (allowed: %s)" % (repr(key), ", ".join(FIELDS)))
        v = raw[key]
        i = FIELDS.index(key)
        lo, hi = LIMITS[i]
        if not isinstance(v, int) or isinstance(v, bool) or v < lo or v > hi:
            raise ValueError(", %s: must be a whole number from %d to %d, got %s" % (repr(key), lo, hi, repr(v)))
        out[i] = v
    return tuple(out)


def on_rep(app, t, rep):
    """The app's hook after a rep: an "ease off" cue and a ``form_drop`` record when the rep
    degraded; after ``offer_after`` drops in a row (and not after the set's last rep), the
    offer to end the set (``Engine.offer_end_set``: a tap during the walk back accepts)."""
    from swcore.cues import CUE_EASE_OFF, CUE_END_SET_OFFER
    step = app.engine.step
    if step is None or step.get("guard", ()) is None:   # the plan turned it off
        return
    if app.guard is None:
        app.guard = FormGuard(step.get("guard") or DEFAULTS)
    drop = app.guard.check(rep)
    if drop is None:
        return
    offer = drop.pop("offer") and drop["rep"] < step.get("of", 0)
    app.emit(t, "form_drop", drop)
    if offer:
        app.engine.offer_end_set()
        app.emit(t, "end_set_offer", {"rep": drop["rep"], "in_a_row": drop["in_a_row"]})
    app.emit(t, "cue", {"pattern": CUE_END_SET_OFFER if offer else CUE_EASE_OFF})


def _run_ms(rep):
    """How long the runner ran: the motion pipeline's bout, else go-to-stop minus reaction."""
    ms = rep.get("moving_ms") or 0
    if ms > 0:
        return ms
    return rep.get("duration_ms", 0) - rep.get("reaction_ms", 0)


def _cadence(rep):
    c = rep.get("cadence_spm") or 0
    if c > 0:
        return c
    ms = _run_ms(rep)
    steps = rep.get("steps") or 0
    return steps * 60000 // ms if ms > 0 and steps > 1 else 0


def _pct(value, base):
    """Percent change to one decimal (as tenths over ten: MicroPython's round() prints long)."""
    if not base:
        return 0
    tenths = (value - base) * 1000 / base
    return int(tenths + 0.5 if tenths >= 0 else tenths - 0.5) / 10


class FormGuard:
    def __init__(self, bounds=DEFAULTS):
        (self.cadence_drop, self.duration_rise, self.impact_rise, self.contact_rise,
         self.baseline_reps, self.offer_after) = bounds
        self.counted = 0       # reps with a run so far
        self.streak = 0        # degraded reps in a row
        self.base_cadence = 0  # best of the first reps: highest cadence ...
        self.base_ms = 0       # ... shortest run
        self.base_g = 0        # ... softest peak impact
        self.base_contact = 0  # ... shortest ground contact

    def check(self, rep):
        """The rep event's fields -> the ``form_drop`` record's fields, or None when the
        rep held its form (or is part of the baseline). ``offer`` in the result says
        the drops in a row reached ``offer_after``."""
        if not rep.get("motion") or rep.get("reason") == "skipped":
            return None
        cadence = _cadence(rep)
        ms = _run_ms(rep)
        g = rep.get("peak_g") or 0
        contact = rep.get("contact_ms") or 0
        self.counted += 1
        if self.counted <= self.baseline_reps:
            if cadence > self.base_cadence:
                self.base_cadence = cadence
            if ms > 0 and (self.base_ms == 0 or ms < self.base_ms):
                self.base_ms = ms
            if g > 0 and (self.base_g == 0 or g < self.base_g):
                self.base_g = g
            if contact > 0 and (self.base_contact == 0 or contact < self.base_contact):
                self.base_contact = contact
            return None
        signals = []
        slow = self.base_cadence > 0 and cadence > 0 and \
            cadence * 100 <= self.base_cadence * (100 - self.cadence_drop)
        if self.base_ms and ms * 100 >= self.base_ms * (100 + self.duration_rise):
            signals.append("duration")
        if self.base_g and g * 100 >= self.base_g * (100 + self.impact_rise):
            signals.append("impact")
        if self.base_contact and contact * 100 >= self.base_contact * (100 + self.contact_rise):
            signals.append("contact")
        if not (slow and signals):
            self.streak = 0
            return None
        self.streak += 1
        out = {"rep": rep.get("rep", self.counted), "signals": ",".join(["cadence"] + signals),
               "cadence_spm": cadence, "base_cadence_spm": self.base_cadence,
               "cadence_pct": _pct(cadence, self.base_cadence),
               "run_ms": ms, "base_run_ms": self.base_ms, "duration_pct": _pct(ms, self.base_ms),
               "in_a_row": self.streak,
               "offer": self.offer_after > 0 and self.streak >= self.offer_after}
        if ms > 0 and rep.get("steps"):
            out["steps_per_s"] = round(rep["steps"] * 1000 / ms, 2)
        if self.base_g:
            out["peak_g"] = g
            out["base_peak_g"] = self.base_g
            out["impact_pct"] = _pct(g, self.base_g)
        if self.base_contact:
            out["contact_ms"] = contact
            out["base_contact_ms"] = self.base_contact
            out["contact_pct"] = _pct(contact, self.base_contact)
        return out
