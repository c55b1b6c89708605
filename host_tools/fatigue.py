"""Composed sessions whose later sprints slow down (or, with ``fade=0``, hold steady).

For the form-drop guard (``swcore.formguard``) there has to be a session where form
fails, and one of the same shape where it does not. Both are spliced from the same
recordings as ``host_tools.compose`` (its ``Composer``, ``load`` and
``running_stretches``), with two differences from a plain composed session:

* the sprints are one runner on one slope: every rep is a piece of the same running
  stretch of the hip recording, run for about the same time (a fixed distance);
* a fresh rep is the recording played 8 % faster (the recorded run is a steady
  ~155 spm; a sprint's turnover is quicker);
* from the third rep on, each rep fades: the recording is played slower (lower
  cadence, the same impacts spread out) and runs longer than the cadence alone
  explains (shorter strides cover the slope in more steps). Cadence falls about
  6.5 % a rep, to at most 12 % under the fresh one (about the recording's own
  pace: much slower and a motion pipeline whose run floor is 140 spm splits a
  rep in two); strides shorten 4 % a rep.

This is a model of fatigue, not a recording of it: it shows the guard reacts to a
session that degrades the way the seed warns about, and that it stays quiet on the
same session without the fade. Same seed, same session.
"""
from host_tools import compose

FRESH = 0.92             # time stretch of a fresh rep (< 1: quicker than the recording)
FADE_CADENCE = 0.07       # more stretch per rep after the first two
MAX_FADE = 1.14          # at most this much slower than fresh
FADE_STRIDE = 0.04       # stride shortening per rep after the first two


def fade_of(rep, fade=1.0):
    """(time stretch, stride factor) of sprint ``rep`` (1-based)."""
    k = max(0, rep - 2) * fade
    return FRESH * min(MAX_FADE, 1 + FADE_CADENCE * k), max(0.7, 1 - FADE_STRIDE * k)


def _stretched(data, start, seconds_out, stretch, rate):
    """``seconds_out`` of ``data`` from ``start``, played ``stretch`` times slower."""
    n = int(round(seconds_out * rate))
    out = []
    for k in range(n):
        pos = k / stretch
        i = start + int(pos)
        f = pos - int(pos)
        a, b = data[i], data[i + 1]
        out.append(tuple(int(round(a[j] + (b[j] - a[j]) * f)) for j in range(3)))
    return out


def compose_fading(seed, rate=50, sprints=6, fade=1.0, warmup=True):
    """Build a session whose later reps fade (``fade=0``: they hold); returns (samples, labels)."""
    c = compose.Composer(seed, rate)
    rng = c.rng
    run = compose.load(compose.RUN_SOURCE, rate)
    base_s = rng.uniform(14, 19)                        # the slope, run fresh
    need = int((base_s * 1.6 + 10) * rate) * sprints     # room for every rep, however slow
    a, b = rng.choice([s for s in compose.running_stretches(rate, 30) if s[1] - s[0] >= 60 * rate])
    span = min(b - a, need)
    window_start = rng.randint(a, b - span) if b - a > span else a
    taps = []
    if warmup:
        c.walk(600)
        c.still(300)
    c.still(rng.uniform(20, 40))
    taps.append(c.now_s())
    reps = []
    next_go = c.now_s() + rng.uniform(5, 8)
    at = window_start
    for i in range(1, sprints + 1):
        c.still(max(2.0, next_go - c.now_s()))
        go = c.now_s()
        taps.append(go)
        c.still(rng.uniform(0.4, 1.5))
        stretch, stride = fade_of(i, fade)
        seconds = base_s * rng.uniform(0.97, 1.03) * stretch / FRESH / stride
        if at + int(seconds * rate / stretch) + 2 >= b:
            at = window_start
        start = c.now_s()
        c.samples.extend(_stretched(run, at, seconds, stretch, rate))
        c.segments.append({"start_s": round(start, 3), "end_s": round(c.now_s(), 3), "label": "run",
                           "source": compose.RUN_SOURCE, "from_s": round(at / rate, 3),
                           "stretch": round(stretch, 3)})
        at += int(seconds * rate / stretch)
        end = c.now_s()
        reps.append({"start_s": round(start, 3), "end_s": round(end, 3), "go_s": round(go, 3),
                     "stretch": round(stretch, 3), "stride": round(stride, 3)})
        c.still(rng.uniform(4, 10))
        c.walk(rng.uniform(95, 125))
        next_go = end + rng.uniform(130, 165)
    if warmup:
        c.walk(600)
        c.still(300)
    else:
        c.still(10)
    labels = {"seed": seed, "rate_hz": rate, "taps_s": [round(t, 3) for t in taps],
              "segments": c.segments, "reps": reps, "fade": fade}
    return c.samples, labels


def compose_fading_to(csv_path, seed, rate=50, sprints=6, fade=1.0, warmup=True):
    samples, labels = compose_fading(seed, rate, sprints, fade, warmup)
    compose.write(samples, labels, csv_path)
    return labels
