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
RUN_SOURCE = "hip-outdoor-run-25min"
RUN_REFERENCE = "ankle-outdoor-run-25min"   # same run at the ankle: where the strides are

ANKLE_IMPACT_MG = 3000      # as in the truth file: an ankle impact is a stride
MAX_STRIDE_MS = 1000        # strides further apart than this: the runner slowed or stopped


def traces_dir():
    if not TRACES_DIR.is_dir():
        raise SystemExit("error: recordings not found at %s (see ../shared/traces/FORMAT.md)" % TRACES_DIR)
    return TRACES_DIR


def load(name, rate):
    """A recording resampled to ``rate`` as a list of (ax, ay, az)."""
    path = traces_dir() / (name + ".csv")
    reader = TraceReader(str(path), rate)
    out = []
    while True:
        s = reader.sample()
        if reader.ended:
            return out
        out.append(s)


def running_stretches(rate, min_s):
    """[(start, end)] sample ranges of the run where the ankle shows unbroken strides."""
    ankle = load(RUN_REFERENCE, rate)
    impacts = []
    last = -10 ** 9
    gap = rate // 2
    for i, (x, y, z) in enumerate(ankle):
        if x * x + y * y + z * z >= ANKLE_IMPACT_MG * ANKLE_IMPACT_MG and i - last >= gap:
            impacts.append(i)
            last = i
    stretches = []
    start = impacts[0]
    max_gap = MAX_STRIDE_MS * rate // 1000
    for a, b in zip(impacts, impacts[1:] + [10 ** 9]):
        if b - a > max_gap:
            if a - start >= min_s * rate:
                stretches.append((start, a))
            start = b
    return stretches


class Composer:
    def __init__(self, seed, rate=50):
        self.rng = random.Random(seed)
        self.seed = seed
        self.rate = rate
        self.samples = []
        self.segments = []
        self._cache = {}

    def _source(self, name):
        if name not in self._cache:
            self._cache[name] = load(name, self.rate)
        return self._cache[name]

    def now_s(self):
        return len(self.samples) / self.rate

    def add(self, label, name, seconds, window=None):
        """Append ``seconds`` of recording ``name`` (from a random place inside ``window``)."""
        data = self._source(name)
        n = int(round(seconds * self.rate))
        lo, hi = window if window else (0, len(data))
        start_s = self.now_s()
        seg = None
        while n > 0:   # a short recording (standing still) is used piece by piece
            take = min(n, hi - lo)
            at = self.rng.randint(lo, hi - take)
            self.samples.extend(data[at:at + take])
            if seg is None:
                seg = {"start_s": round(start_s, 3), "end_s": 0, "label": label,
                       "source": name, "from_s": round(at / self.rate, 3)}
                self.segments.append(seg)
            n -= take
        seg["end_s"] = round(self.now_s(), 3)
        return start_s, self.now_s()

    def still(self, seconds):
        return self.add("still", self.rng.choice(STILL_SOURCES), seconds)

    def walk(self, seconds):
        return self.add("walk", self.rng.choice(WALK_SOURCES), seconds)

    def run(self, seconds, stretches):
        a, b = self.rng.choice([s for s in stretches if s[1] - s[0] >= seconds * self.rate])
        return self.add("run", RUN_SOURCE, seconds, (a, b))


def compose(seed, rate=50, sprints=6, warmup=True):
    """Build a session; returns (samples, labels)."""
    c = Composer(seed, rate)
    rng = c.rng
    stretches = running_stretches(rate, 30)
    taps = []
    if warmup:
        c.walk(600)                      # Easy Jog (a brisk walk here: runs are only the reps)
        c.still(300)                     # Dynamic Stretches
    c.still(rng.uniform(20, 40))         # Sprint Setup: find the slope
    taps.append(c.now_s())               # ... and tap it done
    reps = []
    next_go = c.now_s() + rng.uniform(5, 8)
    for i in range(sprints):
        c.still(max(2.0, next_go - c.now_s()))   # ready at the top
        go = c.now_s()
        taps.append(go)
        c.still(rng.uniform(0.4, 1.5))   # reaction
        start, end = c.run(rng.uniform(12, 25), stretches)
        reps.append({"start_s": round(start, 3), "end_s": round(end, 3), "go_s": round(go, 3)})
        c.still(rng.uniform(4, 10))      # catch breath at the bottom
        c.walk(rng.uniform(95, 125))     # walk back up
        next_go = end + rng.uniform(130, 165)   # the recovery is 2-3 min from the sprint's end
    if warmup:
        c.walk(600)                      # Easy Jog or Walk
        c.still(300)                     # Static Stretching
    else:
        c.still(10)
    labels = {"seed": seed, "rate_hz": rate, "taps_s": [round(t, 3) for t in taps],
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


def compose_to(csv_path, seed, rate=50, sprints=6, warmup=True):
    samples, labels = compose(seed, rate, sprints, warmup)
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
    p.set_defaults(func=run_command)


def run_command(args):
    labels = compose_to(args.out, args.seed, args.rate, args.sprints, not args.no_warmup)
    print("wrote %s (%d s, %d reps); taps: %s" % (
        args.out, labels["segments"][-1]["end_s"], len(labels["reps"]),
        ",".join("%g" % t for t in labels["taps_s"])))
    return 0
