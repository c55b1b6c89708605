"""``make fuzz``: every fuzzer (tests/fuzz/fuzz_*.py) for a bounded time on CPython and
the MicroPython unix port, with oracles.

    python tests/fuzz/run.py [--seconds 600] [--only plan,log] [--seed N] [--cases N]

The time is shared evenly between the fuzzers. Each runs in batches of seeds, every
batch once on each runtime (tests/fuzz/main.py); a fuzzer that declares
``DIFFERENTIAL = True`` must give both runtimes' batches the same digest (the device
and the laptop answer every input alike). A new fuzzer is one more fuzz_NAME.py with
``run(seed, cases, verbose=False)`` returning its digest (or a summary) and raising
AssertionError when an oracle fails.
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from host_tools import firmware  # noqa: E402


def fuzzers():
    return sorted(p.stem[len("fuzz_"):] for p in HERE.glob("fuzz_*.py"))


def differential(name):
    text = (HERE / ("fuzz_%s.py" % name)).read_text()
    return "\nDIFFERENTIAL = True" in text


def batch(runtime, name, seed, cases, verbose=False):
    """``(ok, digest or failure text, seconds)`` of one batch on ``runtime``."""
    if runtime == "micropython":
        cmd = [firmware.micropython_exe(), "-X", "heapsize=16M"]
        env = firmware.micropython_env([HERE])
    else:
        cmd = [sys.executable]
        env = dict(__import__("os").environ)
        env["PYTHONPATH"] = ":".join([str(ROOT / "firmware"), str(ROOT), str(HERE)])
    cmd += [str(HERE / "main.py"), name, str(seed), str(cases)] + (["-v"] if verbose else [])
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(HERE), timeout=900)
    took = time.monotonic() - t0
    out = proc.stdout + proc.stderr
    if verbose:
        return proc.returncode == 0, out, took
    lines = [l for l in proc.stdout.splitlines() if l.startswith("DIGEST ")]
    if proc.returncode != 0 or not lines:
        return False, out.strip() or "exit %d" % proc.returncode, took
    return True, lines[-1].split()[1], took


def first_difference(name, seed, cases):
    """The first case where the two runtimes answer differently."""
    _ok, a, _ = batch("cpython", name, seed, cases, True)
    _ok, b, _ = batch("micropython", name, seed, cases, True)
    for la, lb in zip(a.splitlines(), b.splitlines()):
        if la.split()[:3] != lb.split()[:3]:
            return "cpython:     %s\nmicropython: %s" % (la[:400], lb[:400])
    return "(no single case differs)"


def fuzz(name, seconds, seed, cases=None, log=print):
    """Run ``name`` for about ``seconds``; returns the number of failures (0 = clean)."""
    deadline = time.monotonic() + seconds
    n = cases or 8
    batches = total = 0
    diff = differential(name)
    while True:
        answers = {}
        for runtime in ("cpython", "micropython"):
            ok, answer, took = batch(runtime, name, seed, n)
            if not ok:
                log("FAIL %s on %s (seed %d, %d cases):\n%s" % (name, runtime, seed, n, answer))
                return 1
            answers[runtime] = (answer, took)
        if diff and answers["cpython"][0] != answers["micropython"][0]:
            log("FAIL %s: CPython and MicroPython answer differently (seed %d, %d cases)\n%s"
                % (name, seed, n, first_difference(name, seed, n)))
            return 1
        batches += 1
        total += n
        slowest = max(t for _a, t in answers.values())
        if cases is None and slowest < 3 and n < 20000:
            n *= 2                  # batches of a few seconds: less start-up per case
        seed += 1
        if time.monotonic() >= deadline:
            break
    log("ok   %-6s %6d cases on each runtime in %d batches (%s), %.0f s"
        % (name, total, batches, "same answers on both" if diff else "oracles only", seconds))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=600, help="total time for all fuzzers (default 600)")
    ap.add_argument("--only", help="comma-separated fuzzer names (default: all: %s)" % ", ".join(fuzzers()))
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100000, help="first seed (default: from the clock)")
    ap.add_argument("--cases", type=int, help="cases per batch (default: grows to a few seconds a batch)")
    args = ap.parse_args(argv)
    names = args.only.split(",") if args.only else fuzzers()
    print("fuzzing %s for %.0f s from seed %d" % (", ".join(names), args.seconds, args.seed))
    failed = 0
    for name in names:
        failed += fuzz(name, args.seconds / len(names), args.seed, args.cases)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
