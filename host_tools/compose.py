"""Compose a sprint session trace from real recordings, with known labels and taps.

No public recording of a downhill sprint session exists, so sessions are spliced
from pieces of the recordings in ``../shared/traces``: standing (the stationary wrist
recording), walking (the wrist walks) and running (stretches of the 25-minute hip
run where the ankle recording of the same run shows continuous strides). The
timeline follows the default plan: warm-up, Sprint Setup, N sprints each started by
a tap and followed by a 2-3 min walk back, cool-down. Same seed, same session.

Output: ``NAME.csv`` (trace format, resampled to ``rate``) and ``NAME.labels.json``::

    {"seed": 1, "rate_hz": 50, "taps_s": [...],
     "segments": [{"start_s", "end_s", "label": "still"|"walk"|"run", "source", "from_s"}],
     "reps": [{"start_s", "end_s"}]}

``taps_s`` are the button taps that run the default plan over it: the end of
Sprint Setup, then each sprint's go.
"""
import functools
import json
import os
import random
from pathlib import Path

from host_tools import firmware  # noqa: F401  (puts firmware/ on sys.path)
from swcore.trace import TraceReader

REPO_ROOT = Path(__file__).resolve().parent.parent
# $SPRINTWATCH_TRACES points elsewhere (an installed package has no ../shared/traces).
TRACES_DIR = Path(os.environ.get("SPRINTWATCH_TRACES") or REPO_ROOT.parent / "shared" / "traces")

STILL_SOURCES = ("wrist-mrploppy-stationary-0",)
WALK_SOURCES = ("wrist-hughb-walk-1834", "wrist-hughb-walk-2350")
# walks back in other placements (the walk-off variant draws from these too)
OTHER_WALK_SOURCES = ("phone-frontpocket-pixel-jamie-hard-frontpocket-1", "phone-purse-pixel-jamie-hard-purse-2",
                      "phone-backpocket-pixel-jamie-hard-backpocket-1", "phone-armband-samsung-dario-hard-armband-1",
                      "phone-frontpocket-samsung-carmelo-hard-frontpocket-2")
RUN_SOURCE = "hip-outdoor-run-25min"
RUN_REFERENCE = "ankle-outdoor-run-25min"   # same run at the ankle: where the strides are

ANKLE_IMPACT_MG = 3000      # as in the truth file: an ankle impact is a stride
MAX_STRIDE_MS = 1000        # strides further apart than this: the runner slowed or stopped
REFERENCE_HZ = 100          # the ankle recording's own rate: strides are found at it, not at the board's
MIN_RUN_S = 3               # a shorter line of strides is part of a stop
MAX_MG = 16000              # the sensors' +-16 g range: a harder landing clips there

# How a rep is run and how it ends (``--variant``); "mixed" draws one of these for each rep.
VARIANTS = ("plain", "short", "fast", "walkoff", "jogoff")
MAX_PACE = 1.45      # the fastest a stretch of the run is played
#            run s      speed        landing  after the run
_VARIANT = {"plain": ((12, 25), (1.0, 1.0), (1.0, 1.0), "still"),
            "short": ((8, 12), (1.0, 1.1), (1.0, 1.0), "still"),
            "fast": ((10, 20), (1.22, 1.32), (1.3, 1.6), "still"),
            "walkoff": ((12, 25), (1.0, 1.15), (1.0, 1.2), "walk"),
            "jogoff": ((10, 20), (1.2, 1.3), (1.2, 1.4), "jog")}


def traces_dir():
    if not TRACES_DIR.is_dir():
        raise SystemExit("error: recordings not found at %s (see ../shared/traces/FORMAT.md)" % TRACES_DIR)
    return TRACES_DIR


@functools.lru_cache(maxsize=24)
def load(name, rate):
    """A recording resampled to ``rate`` as a list of (ax, ay, az) (cached: do not change it)."""
    path = traces_dir() / (name + ".csv")
    reader = TraceReader(str(path), rate)
    out = []
    while True:
        s = reader.sample()
        if reader.ended:
            return out
        out.append(s)


def ankle_strides(rate):
    """Sample indices of the ankle impacts (one a stride) of the 25-minute run."""
    ankle = load(RUN_REFERENCE, rate)
    impacts = []
    last = -10 ** 9
    gap = rate // 2
    for i, (x, y, z) in enumerate(ankle):
        if x * x + y * y + z * z >= ANKLE_IMPACT_MG * ANKLE_IMPACT_MG and i - last >= gap:
            impacts.append(i)
            last = i
    return impacts


def run_segments(rate):
    """The 25-minute run labelled: [(start, end, "run"|"stop")] sample ranges, from the ankle's strides.

    A "run" is a line of strides each within MAX_STRIDE_MS of the last (one missed impact inside a
    long line is bridged), at least MIN_RUN_S long; whatever lies between two runs (the runner
    slowed, walked, stood) is a "stop"."""
    impacts = ankle_strides(rate)
    max_gap = MAX_STRIDE_MS * rate // 1000
    runs = []
    start = impacts[0]
    for a, b in zip(impacts, impacts[1:] + [10 ** 9]):
        if b - a > max_gap:
            runs.append([start, a])
            start = b
    merged = []
    for r in runs:
        if merged and r[0] - merged[-1][1] <= 2 * max_gap and r[1] - r[0] >= 3 * rate \
                and merged[-1][1] - merged[-1][0] >= 3 * rate:
            merged[-1][1] = r[1]
        else:
            merged.append(r)
    out = []
    prev = 0
    for a, b in merged:
        if b - a < MIN_RUN_S * rate:
            continue
        if a > prev:
            out.append((prev, a, "stop"))
        out.append((a, b, "run"))
        prev = b
    return out


def running_stretches(rate, min_s):
    """[(start, end)] sample ranges of the run where the ankle shows unbroken strides."""
    return [(a, b) for a, b, label in run_segments(rate) if label == "run" and b - a >= min_s * rate]


def stride_cadence(ankle, rate, start, end):
    """Steps/min of the run between samples ``start`` and ``end``, from the ankle's stride period.

    The autocorrelation of the ankle's magnitude peaks at one stride (0.45-1.1 s); the ankle's
    own impacts are no use here, a hard landing rings twice."""
    step = max(1, rate // 25)
    mags = [int((x * x + y * y + z * z) ** 0.5) for x, y, z in ankle[start:end:step]]
    r = rate / step
    mean = sum(mags) / len(mags)
    d = [m - mean for m in mags]
    best, best_lag = None, 0
    for lag in range(int(0.45 * r), int(1.1 * r) + 1):
        c = sum(d[i] * d[i + lag] for i in range(len(d) - lag)) / (len(d) - lag)
        if best is None or c > best:
            best, best_lag = c, lag
    return 120.0 * r / best_lag


def harder(data, gain, half_window=25):
    """Landings ``gain`` times harder: the acceleration about its mean over ``half_window`` samples
    either side (gravity; about 1 s at the composer's rates) scaled, clipped at 16 g."""
    if gain == 1.0 or not data:
        return data
    n = len(data)
    sums = [[0] * (n + 1) for _ in range(3)]      # running sums per axis: each mean in O(1)
    for k in range(3):
        acc = sums[k]
        for i, v in enumerate(data):
            acc[i + 1] = acc[i] + v[k]
    out = []
    for i in range(n):
        lo, hi = max(0, i - half_window), min(n, i + half_window + 1)
        g = [(sums[k][hi] - sums[k][lo]) / (hi - lo) for k in range(3)]
        out.append(tuple(max(-MAX_MG, min(MAX_MG, int(g[k] + gain * (data[i][k] - g[k])))) for k in range(3)))
    return out


class Composer:
    def __init__(self, seed, rate=50):
        self.rng = random.Random(seed)
        self.seed = seed
        self.rate = rate
        self.samples = []
        self.segments = []
        self._cache = {}

    def _source(self, name, rate=None):
        key = (name, rate or self.rate)
        if key not in self._cache:
            self._cache[key] = load(name, rate or self.rate)
        return self._cache[key]

    def now_s(self):
        return len(self.samples) / self.rate

    def add(self, label, name, seconds, window=None, speed=1.0, gain=1.0):
        """Append ``seconds`` of recording ``name`` (from a random place inside ``window``, seconds of
        the source), played ``speed`` times faster with landings ``gain`` times harder."""
        src_rate = int(round(self.rate / speed))   # fewer source samples a second, played at ``rate``
        data = self._source(name, src_rate)
        n = int(round(seconds * self.rate))
        lo, hi = (int(window[0] * src_rate), int(window[1] * src_rate)) if window else (0, len(data))
        start_s = self.now_s()
        seg = None
        while n > 0:   # a short recording (standing still) is used piece by piece
            take = min(n, hi - lo)
            at = self.rng.randint(lo, max(lo, hi - take))
            self.samples.extend(harder(data[at:at + take], gain))
            if seg is None:
                seg = {"start_s": round(start_s, 3), "end_s": 0, "label": label,
                       "source": name, "from_s": round(at / src_rate, 3)}
                if speed != 1.0 or gain != 1.0:
                    seg["speed"] = round(self.rate / src_rate, 3)
                    seg["landing_gain"] = round(gain, 2)
                self.segments.append(seg)
            n -= take
        seg["end_s"] = round(self.now_s(), 3)
        return start_s, self.now_s()

    def still(self, seconds):
        return self.add("still", self.rng.choice(STILL_SOURCES), seconds)

    def walk(self, seconds, sources=WALK_SOURCES):
        return self.add("walk", self.rng.choice(sources), seconds)

    def pick_run(self, seconds, stretches, speed=1.0):
        """A window (seconds of the source) of ``seconds * speed`` inside one unbroken stretch, and the
        runner's cadence there (steps/min at the source's own pace)."""
        need = seconds * speed
        a, b = self.rng.choice([s for s in stretches if s[1] - s[0] >= need + 1])
        at = self.rng.uniform(a, b - need)
        ankle = self._source(RUN_REFERENCE, 25)
        return (at, at + need), stride_cadence(ankle, 25, int(at * 25), int((at + need) * 25))

    def run(self, seconds, stretches, speed=1.0, gain=1.0, label="run", window=None):
        """A run from inside one unbroken stretch of the 25-minute run (``stretches`` in seconds)."""
        if window is None:
            window, _ = self.pick_run(seconds, stretches, speed)
        return self.add(label, RUN_SOURCE, seconds, window, speed, gain)


def compose(seed, rate=50, sprints=6, warmup=True, variant="plain"):
    """Build a session; returns (samples, labels). ``variant``: one of VARIANTS or "mixed"."""
    if variant != "mixed" and variant not in _VARIANT:
        raise ValueError("compose: variant %r is not one of %s" % (variant, ", ".join(VARIANTS + ("mixed",))))
    c = Composer(seed, rate)
    rng = c.rng
    # where the runner runs, from the ankle at its own 100 Hz: the same stretches at every rate
    stretches = [(a / REFERENCE_HZ, b / REFERENCE_HZ) for a, b in running_stretches(REFERENCE_HZ, 30)]
    taps = []
    if warmup:
        c.walk(600)                      # Easy Jog (a brisk walk here: runs are only the reps)
        c.still(300)                     # Dynamic Stretches
    c.still(rng.uniform(20, 40))         # Sprint Setup: find the slope
    taps.append(c.now_s())               # ... and tap it done
    reps = []
    next_go = c.now_s() + rng.uniform(5, 8)
    for i in range(sprints):
        kind = rng.choice(VARIANTS) if variant == "mixed" else variant
        run_s, speed, gain, after = _VARIANT[kind]
        c.still(max(2.0, next_go - c.now_s()))   # ready at the top
        go = c.now_s()
        taps.append(go)
        c.still(rng.uniform(0.4, 1.5))   # reaction
        seconds = rng.uniform(*run_s)
        pace = rng.uniform(*speed)
        if after == "jog":               # the jog (the run at its own pace) at most 0.78 of the sprint's cadence
            jog_s = rng.uniform(8, 20)
            jog_window, jog_cadence = c.pick_run(jog_s, stretches)
        paced = after == "jog" or kind == "fast"     # the pace follows from the cadence found
        for _ in range(50):
            # (a paced rep measures its cadence over room for the fastest pace, then takes the
            # start of it: the cadence is the one of the stretch it plays)
            window, cadence = c.pick_run(seconds, stretches, MAX_PACE if paced else pace)
            if after == "jog":
                pace = max(pace, jog_cadence / (0.78 * cadence))
            elif kind == "fast":
                pace = rng.uniform(190, 215) / cadence
            if 1.0 <= pace <= MAX_PACE and cadence * pace <= 240:
                break
            pace = rng.uniform(*speed)
        window = (window[0], window[0] + seconds * pace)
        start, end = c.run(seconds, stretches, pace, rng.uniform(*gain), window=window)
        rep = {"start_s": round(start, 3), "end_s": round(end, 3), "go_s": round(go, 3), "variant": kind,
               "cadence_spm": round(cadence * pace)}
        if after == "jog":               # eased into a jog, then the walk back
            _, jog_end = c.run(jog_s, stretches, label="jog", window=jog_window)
            rep["jog_end_s"] = round(jog_end, 3)
            c.walk(rng.uniform(95, 125), WALK_SOURCES + OTHER_WALK_SOURCES)
        elif after == "walk":            # decelerated straight into the walk back
            c.walk(rng.uniform(95, 125), WALK_SOURCES + OTHER_WALK_SOURCES)
        else:
            c.still(rng.uniform(4, 10))  # catch breath at the bottom
            c.walk(rng.uniform(95, 125))  # walk back up
        reps.append(rep)
        next_go = end + rng.uniform(130, 165)   # the recovery is 2-3 min from the sprint's end
    if warmup:
        c.walk(600)                      # Easy Jog or Walk
        c.still(300)                     # Static Stretching
    else:
        c.still(10)
    labels = {"seed": seed, "rate_hz": rate, "variant": variant, "taps_s": [round(t, 3) for t in taps],
              "segments": c.segments, "reps": reps}
    return c.samples, labels


def write(samples, labels, csv_path):
    """Write the trace CSV and ``*.labels.json`` beside it; returns the labels path."""
    csv_path = Path(csv_path)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    rate = labels["rate_hz"]
    with open(csv_path, "w") as f:
        f.write("t_ms,ax,ay,az\n")
        for k, (x, y, z) in enumerate(samples):
            f.write("%d,%d,%d,%d\n" % (k * 1000 // rate, x, y, z))
    labels_path = csv_path.with_suffix(".labels.json")
    labels_path.write_text(json.dumps(labels, indent=1))
    return labels_path


def compose_to(csv_path, seed, rate=50, sprints=6, warmup=True, variant="plain"):
    samples, labels = compose(seed, rate, sprints, warmup, variant)
    write(samples, labels, csv_path)
    return labels


def register(sub):
    p = sub.add_parser("compose", help="splice recordings into a sprint session trace with labels",
                       description="Compose a seeded sprint session from the recordings in ../shared/traces: "
                                   "writes TRACE.csv and TRACE.labels.json (segments, reps, taps).")
    p.add_argument("out", help="trace file to write (CSV)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--rate", type=int, default=50, help="sample rate in Hz (default 50)")
    p.add_argument("--sprints", type=int, default=6, help="number of sprints (default 6)")
    p.add_argument("--no-warmup", action="store_true", help="only Sprint Setup and the sprints")
    p.add_argument("--variant", choices=VARIANTS + ("mixed",), default="plain",
                   help="how each rep is run and ends: plain (12-25 s, then stand), short (8-12 s), "
                        "fast (~200 steps/min, harder landings), walkoff (straight into the walk back), "
                        "jogoff (eased into an 8-20 s jog), mixed (one of these per rep); default plain")
    p.set_defaults(func=run_command)


def run_command(args):
    labels = compose_to(args.out, args.seed, args.rate, args.sprints, not args.no_warmup, args.variant)
    print("wrote %s (%d s, %d reps); taps: %s" % (
        args.out, labels["segments"][-1]["end_s"], len(labels["reps"]),
        ",".join("%g" % t for t in labels["taps_s"])))
    return 0
