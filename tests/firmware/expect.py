"""Small assertion helpers that work on CPython and MicroPython alike (no pytest there)."""


def raises(exc_type, fn, *args, **kwargs):
    """Call fn and return the exception it raised; fail if it raised none."""
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        return e
    raise AssertionError("%s was not raised" % exc_type.__name__)


class Collector:
    """An ``emit`` sink that keeps every event as (t_ms, event, fields)."""

    def __init__(self):
        self.events = []

    def __call__(self, t, event, fields):
        self.events.append((t, event, fields))

    def of(self, event):
        return [e for e in self.events if e[1] == event]

    def times(self, event, **match):
        out = []
        for t, ev, f in self.events:
            if ev != event:
                continue
            ok = True
            for k in match:
                if f.get(k) != match[k]:
                    ok = False
            if ok:
                out.append(t)
        return out
