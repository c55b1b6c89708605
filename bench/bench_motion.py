"""Motion detection, measured on the real recordings (``make bench-motion``).

Prints, for the firmware pipeline (swcore.motion) at the sensor rate:
- step count error per recording against its truth file (the hip run against the
  strides counted on the ankle recording of the same run), and overall;
- false steps on the driving, housework and stationary recordings, relative to a
  walking recording of the same length;
- rep precision / recall and start / end error on composed sprint sessions;
- cost on the MicroPython unix port: microseconds and bytes allocated per sample.

Usage: python bench/bench_motion.py [--rate HZ] [--sessions N] [--json FILE]
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from host_tools import firmware, compose  # noqa: E402
from host_tools.analyze import analyze_file, analyze_samples  # noqa: E402

TRACES = compose.TRACES_DIR
WALK_REFERENCE = ("wrist-hughb-walk-1834", "wrist-hughb-walk-2350", "wrist-hughb-walk-6605")
NOT_WALKING = ("wrist-hughb-drive-29min-0", "wrist-hughb-housework-a958-b2658", "wrist-mrploppy-stationary-0")
INFO_ONLY = {"ankle-outdoor-run-25min": "ankle: the reference itself, one big impact a stride",
             "wrist-hughb-mixed-390": "mixed: author's count of a day with little walking",
             "wrist-hughb-work-66": "work: author's count of a day with little walking"}
TARGET_STEP_PCT = 5.0
TARGET_FALSE_PCT = 2.0
TARGET_EDGE_S = 1.0


def truth(name):
    return json.loads((TRACES / (name + ".truth.json")).read_text())


def step_counts(rate):
    rows = []
    for csv in sorted(TRACES.glob("*.csv")):
        name = csv.stem
        t = truth(name)
        res = analyze_file(csv, rate)
        rows.append({"name": name, "placement": t["placement"], "activity": t["activity"].split(" ")[0],
                     "truth": t["steps"], "steps": res["steps"], "duration_s": res["duration_s"],
                     "reps": len(res["reps"])})
    return rows


def walking_rate(rows):
    """Steps per second of the wrist walks (truth): what a walking file of that length holds."""
    ref = [r for r in rows if r["name"] in WALK_REFERENCE]
    return sum(r["truth"] for r in ref) / sum(r["duration_s"] for r in ref)


def match_reps(found, labels):
    """Pair detected runs with the composed reps by overlap."""
    truth_reps = labels["reps"]
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
    return pairs, len(found), len(truth_reps)


def sessions(rate, count):
    out = []
    for seed in range(1, count + 1):
        samples, labels = compose.compose(seed, rate)
        res = analyze_samples(samples, rate)
        pairs, found, true = match_reps(res["reps"], labels)
        out.append({"seed": seed, "found": found, "true": true, "matched": len(pairs),
                    "start_err_s": [round(p[0], 2) for p in pairs], "end_err_s": [round(p[1], 2) for p in pairs]})
    return out


MP_SCRIPT = r"""
import gc, time, micropython
from array import array
from swcore.trace import TraceReader
from swcore.motion import MotionPipeline
rate = %d
r = TraceReader(%r, rate)
n = %d
data = array('h', bytearray(6 * n))
for i in range(n):
    s = r.sample()
    data[3 * i] = s[0]; data[3 * i + 1] = s[1]; data[3 * i + 2] = s[2]
p = MotionPipeline(rate)
feed = p.feed
t0 = time.ticks_us()
i = 0
while i < n:
    feed(data[3 * i], data[3 * i + 1], data[3 * i + 2])
    i += 1
us = time.ticks_diff(time.ticks_us(), t0)
p1 = MotionPipeline(rate)
feed = p1.feed
gc.collect()
gc.disable()
before = gc.mem_alloc()
i = 0
while i < n:
    feed(data[3 * i], data[3 * i + 1], data[3 * i + 2])
    i += 1
alloc = gc.mem_alloc() - before
gc.enable()
p2 = MotionPipeline(rate)
feed = p2.feed
micropython.heap_lock()
i = 0
while i < n:
    feed(data[3 * i], data[3 * i + 1], data[3 * i + 2])
    i += 1
micropython.heap_unlock()
print(us, alloc, n, p.steps)
"""


def unix_port_cost(rate, seconds=300, runs=5):
    """(µs per sample, bytes allocated per sample) over a stretch of the hip run; best of ``runs``."""
    n = seconds * rate
    script = MP_SCRIPT % (rate, str(TRACES / (compose.RUN_SOURCE + ".csv")), n)
    best = None
    for _ in range(runs):
        proc = subprocess.run([firmware.micropython_exe(), "-X", "heapsize=8M", "-c", script],
                              env=firmware.micropython_env(), capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit("bench: micropython failed:\n" + proc.stdout + proc.stderr)
        us, alloc, n, _steps = (int(x) for x in proc.stdout.split())
        if best is None or us / n < best[0]:
            best = (us / n, alloc / n)
    return best


def report(rate, n_sessions):
    t0 = time.time()
    rows = step_counts(rate)
    walk_sps = walking_rate(rows)
    ok = True
    print("Motion detection at %d Hz (firmware pipeline swcore.motion)\n" % rate)
    print("Step count against the truth files")
    print("  %-52s %-11s %6s %6s %7s" % ("recording", "placement", "truth", "found", "error"))
    total_t = total_f = 0
    for r in rows:
        if r["name"] in NOT_WALKING:
            continue
        note = INFO_ONLY.get(r["name"])
        err = (r["steps"] - r["truth"]) * 100.0 / r["truth"]
        flag = ""
        if note is None:
            total_t += r["truth"]
            total_f += r["steps"]
            if abs(err) > TARGET_STEP_PCT:
                flag = "  over target"
                ok = False
        else:
            flag = "  (info: %s)" % note
        print("  %-52s %-11s %6d %6d %+6.1f%%%s" % (r["name"], r["placement"], r["truth"], r["steps"], err, flag))
    print("  %-52s %-11s %6d %6d %+6.1f%%" % ("overall (walks and the hip run)", "", total_t, total_f,
                                              (total_f - total_t) * 100.0 / total_t))
    print("\nFalse steps when not walking (relative to %.2f steps/s of the wrist walks)" % walk_sps)
    for r in rows:
        if r["name"] not in NOT_WALKING:
            continue
        false = max(0, r["steps"] - r["truth"])
        rel = false * 100.0 / (walk_sps * r["duration_s"])
        flag = "" if rel <= TARGET_FALSE_PCT else "  over target"
        ok = ok and rel <= TARGET_FALSE_PCT
        print("  %-52s found %5d, truth %4d: %4d false = %4.2f%%%s" % (r["name"], r["steps"], r["truth"], false, rel, flag))
    sess = sessions(rate, n_sessions)
    found = sum(s["found"] for s in sess)
    true = sum(s["true"] for s in sess)
    matched = sum(s["matched"] for s in sess)
    starts = [abs(e) for s in sess for e in s["start_err_s"]]
    ends = [abs(e) for s in sess for e in s["end_err_s"]]
    print("\nComposed sprint sessions (seeds 1-%d, host_tools/compose.py): %d reps" % (n_sessions, true))
    print("  precision %.3f (%d of %d runs found are reps), recall %.3f (%d of %d reps found)" % (
        matched / found if found else 0, matched, found, matched / true, matched, true))
    if starts:
        print("  start error: mean %.2f s, max %.2f s;  end error: mean %.2f s, max %.2f s" % (
            sum(starts) / len(starts), max(starts), sum(ends) / len(ends), max(ends)))
    ok = ok and matched == true == found and max(starts + ends + [0]) <= TARGET_EDGE_S
    us, alloc = unix_port_cost(rate)
    print("\nCost on the MicroPython unix port: %.1f us per sample, %.2f bytes allocated per sample "
          "(and a full pass under micropython.heap_lock())" % (us, alloc))
    ok = ok and alloc == 0
    print("\nall targets met" if ok else "\nsome targets NOT met (see above)")
    print("(%.0f s)" % (time.time() - t0))
    return {"rows": rows, "sessions": sess, "us_per_sample": us, "bytes_per_sample": alloc, "ok": ok}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=int, default=50)
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)
    if not TRACES.is_dir():
        print("bench-motion: recordings not found at %s; skipped" % TRACES)
        return 0
    result = report(args.rate, args.sessions)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
