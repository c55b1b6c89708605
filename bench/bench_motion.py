"""Motion detection, measured on the real recordings (``make bench-motion``).

For the firmware pipeline (swcore.motion) at 25, 50 and 100 Hz, it prints:
- the step count error of every recording against its truth file, with the shipped constants
  (in-sample: they were chosen on these recordings) and leave-one-person-out (LOPO: for each
  person, the constants are picked from a small grid on everybody else's recordings, then
  measured on that person's);
- false runs on every recording that is not a run (walks, driving, housework, standing);
- the 25-minute hip run against its own stops (labelled from the ankle recording);
- rep recall, false reps and worst edge for every composed variant (host_tools/compose.py);
- walks within 5 % on perturbed copies of the walks (sensor noise, softer or harder motion, a
  slower or brisker cadence);
- cost on the MicroPython unix port: microseconds and bytes allocated per sample.

People (from the file names): hughb, mrploppy, jamie, dario, carmelo, and the runner of the
hip/ankle recording (whose run every composed session is made of).

Usage: python bench/bench_motion.py [--rate HZ] [--seeds N] [--json FILE]
"""
import argparse
import json
import subprocess
import sys
import time
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from host_tools import firmware, compose  # noqa: E402
from host_tools.analyze import TUNABLE, analyze_samples, trace_samples  # noqa: E402
from swcore import motion  # noqa: E402

TRACES = compose.TRACES_DIR
PEOPLE = ("hughb", "mrploppy", "jamie", "dario", "carmelo")
RUNNER = "runner"
RUN_RECORDINGS = ("hip-outdoor-run-25min", "ankle-outdoor-run-25min")
INFO_ONLY = {"ankle-outdoor-run-25min": "the reference itself",
             "wrist-hughb-mixed-390": "author's count of a day with little walking",
             "wrist-hughb-work-66": "author's count of a day with little walking",
             "wrist-hughb-housework-a958-b2658": "misses and false steps in one number"}
TARGET_STEP_PCT = 5.0
TARGET_EDGE_S = {"jogoff": 2.0}      # every other variant: 1 s
RATES = (25, 50, 100)

# The leave-one-person-out grid: one constant at a time around the shipped value (the others
# stay shipped), so a held-out person can only move a constant the others' data also moves.
DEFAULTS = {name: getattr(motion, name) for name in TUNABLE}
GRID = {"REGULAR_PCT": (35, 55), "RUN_HEIGHT_MG": (650, 950), "EASE_CAD_PCT": (85, 91),
        "TRACK_PCT": (30, 50), "STRIDE_MS": (850, 1050), "SOFT_BUMP_PCT": (50, 70)}


def person_of(name):
    if name.startswith(("hip-", "ankle-")):
        return RUNNER
    for p in PEOPLE:
        if "-%s-" % p in name:
            return p
    raise SystemExit("bench: no person in the name %s" % name)


def truth(name):
    return json.loads((TRACES / (name + ".truth.json")).read_text())


def flat(samples):
    a = array("h")
    for s in samples:
        a.extend(s)
    return a


def triples(a):
    for i in range(0, len(a), 3):
        yield a[i], a[i + 1], a[i + 2]


class Data:
    """Every recording and composed session at one rate, resampled once."""

    def __init__(self, rate, seeds):
        self.rate = rate
        self.recordings = {}
        for csv in sorted(TRACES.glob("*.csv")):
            t = truth(csv.stem)
            self.recordings[csv.stem] = {"truth": t, "person": person_of(csv.stem),
                                         "walk": t["activity"].startswith("walk"),
                                         "samples": flat(trace_samples(csv, rate))}
        self.sessions = []
        for variant in compose.VARIANTS:
            for seed in range(1, seeds + 1):
                samples, labels = compose.compose(seed, rate, sprints=6, warmup=False, variant=variant)
                self.sessions.append({"variant": variant, "seed": seed, "labels": labels, "samples": flat(samples)})
        ref = compose.REFERENCE_HZ      # the reference at the ankle recording's own rate
        self.stops = [(a / ref, b / ref) for a, b, label in compose.run_segments(ref)
                      if label == "run" and b - a >= 20 * ref]


def match_reps(found, truth_reps):
    """Pair detected runs with the true reps by overlap: [(start error, end error)], unmatched found."""
    used = set()
    pairs = []
    for tr in truth_reps:
        best = None
        for i, r in enumerate(found):
            if i in used or r["end_s"] < tr["start_s"] or r["start_s"] > tr["end_s"]:
                continue
            overlap = min(r["end_s"], tr["end_s"]) - max(r["start_s"], tr["start_s"])
            if best is None or overlap > best[0]:
                best = (overlap, i)
        if best is not None:
            used.add(best[1])
            r = found[best[1]]
            pairs.append((r["start_s"] - tr["start_s"], r["end_s"] - tr["end_s"]))
    return pairs, len(found) - len(used)


def evaluate(data, tune, what=("recordings", "sessions")):
    """Figures of one set of constants: per recording (steps, runs), per session (reps)."""
    rate = data.rate
    out = {"recordings": {}, "sessions": []}
    if "recordings" in what:
        for name, rec in data.recordings.items():
            res = analyze_samples(triples(rec["samples"]), rate, tune)
            out["recordings"][name] = {"steps": res["steps"], "runs": res["reps"]}
    if "sessions" in what:
        for s in data.sessions:
            res = analyze_samples(triples(s["samples"]), rate, tune)
            pairs, false = match_reps(res["reps"], s["labels"]["reps"])
            out["sessions"].append({"variant": s["variant"], "seed": s["seed"], "true": len(s["labels"]["reps"]),
                                    "matched": len(pairs), "false": false,
                                    "start_err_s": [round(p[0], 2) for p in pairs],
                                    "end_err_s": [round(p[1], 2) for p in pairs]})
    return out


def step_error_pct(data, name, steps):
    t = data.recordings[name]["truth"]["steps"]
    return (steps - t) * 100.0 / t if t else None


def loss(data, result, people):
    """What a tuner minimises over the recordings of ``people`` (and the sessions if the runner is one)."""
    bad = 0
    for name, r in result["recordings"].items():
        rec = data.recordings[name]
        if rec["person"] not in people:
            continue
        if rec["walk"] and name not in INFO_ONLY:
            err = step_error_pct(data, name, r["steps"])
            bad += abs(err) > TARGET_STEP_PCT
        if name not in RUN_RECORDINGS:
            bad += 3 * len(r["runs"])
    if RUNNER in people:
        for s in result["sessions"]:
            limit = TARGET_EDGE_S.get(s["variant"], 1.0)
            bad += 3 * (s["true"] - s["matched"] + s["false"])
            bad += sum(abs(e) > limit for e in s["start_err_s"] + s["end_err_s"])
    return bad


def candidates():
    yield "shipped", dict(DEFAULTS)
    for name, values in GRID.items():
        for v in values:
            tune = dict(DEFAULTS)
            tune[name] = v
            yield "%s=%d" % (name, v), tune


def lopo(data, results):
    """For each person: the candidate the others' data picks (ties keep the shipped constants)."""
    people = sorted({r["person"] for r in data.recordings.values()})
    chosen = {}
    for held in people:
        others = [p for p in people if p != held]
        best = None
        for label, _tune in candidates():
            score = loss(data, results[label], others)
            if best is None or score < best[0]:
                best = (score, label)
        chosen[held] = best[1]
    return chosen


MP_SCRIPT = r"""
import gc, micropython, time
from array import array
from swcore.trace import TraceReader
from swcore.motion import MotionPipeline
rate = %d
r = TraceReader(%r, rate)
n = %d
passes = %d
data = array('h', bytearray(6 * n))
for i in range(n):
    s = r.sample()
    data[3 * i] = s[0]; data[3 * i + 1] = s[1]; data[3 * i + 2] = s[2]
def run(feed):
    i = 0
    while i < n:
        feed(data[3 * i], data[3 * i + 1], data[3 * i + 2])
        i += 1
def empty(x, y, z):
    return 0
best = base = 1 << 30
for k in range(passes):
    feed = MotionPipeline(rate).feed
    t = time.ticks_us()
    run(feed)
    best = min(best, time.ticks_diff(time.ticks_us(), t))
    t = time.ticks_us()
    run(empty)
    base = min(base, time.ticks_diff(time.ticks_us(), t))
feed = MotionPipeline(rate).feed
gc.collect()
gc.disable()
before = gc.mem_alloc()
run(feed)
alloc = gc.mem_alloc() - before
gc.enable()
feed = MotionPipeline(rate).feed
micropython.heap_lock()
run(feed)
micropython.heap_unlock()
print(best - base, alloc, n)
"""


def unix_port_cost(rate, seconds=30, passes=15):
    """(µs per sample, bytes allocated per sample) over a stretch of the hip run on the MicroPython
    unix port: the fastest of ``passes`` passes (the one other jobs on the machine disturbed
    least) minus the same loop calling an empty function; then one pass counting allocations and
    one under ``micropython.heap_lock()``."""
    path = str(TRACES / (compose.RUN_SOURCE + ".csv"))
    proc = subprocess.run([firmware.micropython_exe(), "-X", "heapsize=8M", "-c",
                           MP_SCRIPT % (rate, path, seconds * rate, passes)],
                          env=firmware.micropython_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit("bench: micropython failed:\n" + proc.stdout + proc.stderr)
    us, alloc, n = (int(x) for x in proc.stdout.split())
    return us / n, alloc / n


def perturbed(a, rate, noise_mg=0, scale=1.0, seed=7):
    """A copy of the samples with uniform sensor noise added, or the motion about a 1 s mean
    (gravity) scaled like the composer's harder landings: a noisier chip, a softer or harder walker."""
    import random
    rnd = random.Random(seed)
    out = flat(compose.harder(list(triples(a)), scale, rate // 2)) if scale != 1.0 else array("h", a)
    if noise_mg:
        for i in range(len(out)):
            out[i] = max(-16000, min(16000, out[i] + rnd.randint(-noise_mg, noise_mg)))
    return out


PERTURBATIONS = (("sensor noise +-50 mg", {"noise_mg": 50}), ("motion x0.85 (a softer walker)", {"scale": 0.85}),
                 ("motion x1.3 (a harder walker)", {"scale": 1.3}),
                 ("cadence x0.85 (a slower walker)", {"speed": 0.85}),
                 ("cadence x1.15 (a brisker walker)", {"speed": 1.15}))


def perturbed_walks(data):
    """Walks within 5 % and false runs on perturbed copies of the walks (shipped constants)."""
    out = {}
    for label, kw in PERTURBATIONS:
        ok = total = runs = 0
        for name, rec in data.recordings.items():
            if not rec["walk"] or name in INFO_ONLY:
                continue
            if "speed" in kw:   # played faster or slower, as the composer plays a recording: read at rate / speed
                samples = flat(trace_samples(TRACES / (name + ".csv"), int(round(data.rate / kw["speed"]))))
            else:
                samples = perturbed(rec["samples"], data.rate, **kw)
            res = analyze_samples(triples(samples), data.rate)
            total += 1
            ok += abs(step_error_pct(data, name, res["steps"])) <= TARGET_STEP_PCT
            runs += len(res["reps"])
        out[label] = (ok, total, runs)
    return out


def capture_bytes_per_minute(data):
    """Bytes a minute of raw capture (swcore.capture's accel_raw records) at this rate, on the
    hip run and on a wrist walk."""
    from swcore import logformat
    out = {}
    block = min(100, data.rate)
    for name in ("hip-outdoor-run-25min", "wrist-hughb-walk-2350"):
        a = data.recordings[name]["samples"]
        total = 0
        for i in range(0, len(a) - 3 * block + 1, 3 * block):
            total += len(logformat.encode_record(i, "accel_raw", {"rate_hz": data.rate, "samples": a[i:i + 3 * block]}))
        out[name] = round(total * 60 * data.rate / (len(a) // 3))
    return out


def _pct(v):
    return "   n/a" if v is None else "%+5.1f%%" % v


def session_summary(sessions):
    rows = {}
    for s in sessions:
        r = rows.setdefault(s["variant"], {"true": 0, "matched": 0, "false": 0, "worst_start": 0.0, "worst_end": 0.0})
        r["true"] += s["true"]
        r["matched"] += s["matched"]
        r["false"] += s["false"]
        r["worst_start"] = max([r["worst_start"]] + [abs(e) for e in s["start_err_s"]])
        r["worst_end"] = max([r["worst_end"]] + [abs(e) for e in s["end_err_s"]])
    return rows


def report(rate, seeds):
    t0 = time.time()
    print("Motion detection at %d Hz (firmware pipeline swcore.motion)" % rate, flush=True)
    data = Data(rate, seeds)
    results = {}
    for label, tune in candidates():
        results[label] = evaluate(data, tune)
    chosen = lopo(data, results)
    shipped = results["shipped"]
    print("LOPO picks (person: constants tuned on everybody else): %s" % ", ".join(
        "%s: %s" % (p, c) for p, c in sorted(chosen.items())))

    print("\nStep count against the truth files: in-sample (shipped constants) | leave-one-person-out")
    print("  %-52s %-8s %6s %6s %7s | %6s %7s  %s" % ("recording", "person", "truth", "found", "error",
                                                    "found", "error", "false runs in / LOPO"))
    walks = {"in": [0, 0], "lopo": [0, 0]}
    false_runs = {"in": 0, "lopo": 0}
    not_running = 0
    for name, rec in data.recordings.items():
        held = results[chosen[rec["person"]]]
        a, b = shipped["recordings"][name], held["recordings"][name]
        ea, eb = step_error_pct(data, name, a["steps"]), step_error_pct(data, name, b["steps"])
        note = ""
        if name in INFO_ONLY:
            note = "  (info: %s)" % INFO_ONLY[name]
        elif rec["walk"]:
            for key, e in (("in", ea), ("lopo", eb)):
                walks[key][1] += 1
                walks[key][0] += abs(e) <= TARGET_STEP_PCT
            if abs(eb) > TARGET_STEP_PCT:
                note = "  LOPO over 5 %"
        runs = ""
        if name not in RUN_RECORDINGS:
            not_running += 1
            false_runs["in"] += len(a["runs"])
            false_runs["lopo"] += len(b["runs"])
            runs = "%d / %d" % (len(a["runs"]), len(b["runs"]))
        print("  %-52s %-8s %6d %6d %7s | %6d %7s  %-7s%s" % (
            name[:52], rec["person"], rec["truth"]["steps"], a["steps"], _pct(ea), b["steps"], _pct(eb), runs, note))
    print("  walks within 5 %%: in-sample %d of %d, LOPO %d of %d" % (walks["in"][0], walks["in"][1],
                                                                   walks["lopo"][0], walks["lopo"][1]))
    print("  false runs over %d recordings that are not runs: in-sample %d, LOPO %d" % (
        not_running, false_runs["in"], false_runs["lopo"]))

    print("\nThe 25-minute hip run against its own stops (runs of 20 s or more, from the ankle's strides)")
    found = shipped["recordings"]["hip-outdoor-run-25min"]["runs"]
    pairs, _ = match_reps(found, [{"start_s": a, "end_s": b} for a, b in data.stops])
    ends = sorted(abs(p[1]) for p in pairs)
    starts = sorted(abs(p[0]) for p in pairs)
    print("  %d runs, %d found; start within 1 s: %d, end within 1 s: %d, within 2 s: %d; worst start %.1f s, end %.1f s" % (
        len(data.stops), len(pairs), sum(s <= 1 for s in starts), sum(e <= 1 for e in ends), sum(e <= 2 for e in ends),
        starts[-1] if starts else 0, ends[-1] if ends else 0))

    print("\nComposed sessions (host_tools/compose.py, seeds 1-%d, 6 reps each, no warm-up)" % seeds)
    print("  %-8s %5s | %-34s | %-34s" % ("variant", "reps", "in-sample: found  false  worst edge", "LOPO: found  false  worst edge"))
    ins = session_summary(shipped["sessions"])
    out = session_summary(results[chosen[RUNNER]]["sessions"])
    ok = True
    for v in compose.VARIANTS:
        a, b = ins[v], out[v]
        limit = TARGET_EDGE_S.get(v, 1.0)
        good = b["matched"] == b["true"] and b["false"] == 0 and max(b["worst_start"], b["worst_end"]) <= limit
        ok = ok and good
        print("  %-8s %5d | %5d  %5d  start %.2f end %.2f s | %5d  %5d  start %.2f end %.2f s%s" % (
            v, a["true"], a["matched"], a["false"], a["worst_start"], a["worst_end"],
            b["matched"], b["false"], b["worst_start"], b["worst_end"], "" if good else "  (target %g s)" % limit))
    print("\nPerturbed copies of the walks (shipped constants; a check: no constant is fitted to them)")
    pert = perturbed_walks(data)
    for label, (ok, total, runs) in pert.items():
        print("  %-32s walks within 5 %%: %d of %d, false runs %d" % (label, ok, total, runs))
    cap = capture_bytes_per_minute(data)
    print("\nRaw capture (plan \"capture\": true) at %d Hz: %d bytes a minute running (hip run), %d walking (wrist walk)"
          % (rate, cap["hip-outdoor-run-25min"], cap["wrist-hughb-walk-2350"]))
    us, alloc = unix_port_cost(rate)
    print("\nCost on the MicroPython unix port: %.1f us per sample (fastest of 15 passes, the calling loop "
          "not included), %.2f bytes allocated per sample (and a full pass under micropython.heap_lock())" % (us, alloc))
    print("(%.0f s)\n" % (time.time() - t0), flush=True)
    return {"rate_hz": rate, "lopo_choice": chosen, "walks_within_5pct": walks, "false_runs": false_runs,
            "not_running_recordings": not_running, "sessions_in_sample": ins, "sessions_lopo": out,
            "hip_run_stops": {"runs": len(data.stops), "found": len(pairs), "start_err_s": starts, "end_err_s": ends},
            "recordings": {n: {"in_sample": shipped["recordings"][n]["steps"],
                               "lopo": results[chosen[r["person"]]]["recordings"][n]["steps"],
                               "truth": r["truth"]["steps"]} for n, r in data.recordings.items()},
            "perturbed_walks": pert, "us_per_sample": us, "bytes_per_sample": alloc, "sessions_ok": ok, "capture_bytes_per_min": cap}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=int, action="append", help="sensor rate, Hz (repeatable; default 25, 50, 100)")
    ap.add_argument("--seeds", type=int, default=4, help="composed sessions per variant (default 4)")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)
    if not TRACES.is_dir():
        print("bench-motion: recordings not found at %s; skipped" % TRACES)
        return 0
    out = [report(rate, args.seeds) for rate in (args.rate or RATES)]
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
