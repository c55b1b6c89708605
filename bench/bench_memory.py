"""Heap needed to run the whole default session on the MicroPython unix port.

The firmware is compiled with mpy-cross first, as it is on a board (compiling
source on the device needs far more RAM than running it). Prints the heap in
use during a full simulated session (demo taps), and the smallest ``-X heapsize``
the session still completes in (bisection, 1 KiB steps).
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from host_tools import firmware  # noqa: E402
from host_tools.mpy import compile_tree  # noqa: E402
from host_tools.sim import DEMO_TAPS, presses_from_args  # noqa: E402

PROBE = """
import gc, json, micropython, swrt.sim as s
with open(%r) as f:
    cfg = json.load(f)
app = s.run(cfg)
gc.collect()
print("RESULT", app.engine.done, gc.mem_alloc() + gc.mem_free(), gc.mem_alloc())
micropython.qstr_info()
"""


def run(heap_kib, cfg_path, mpy_dir):
    env = firmware.micropython_env()
    env["MICROPYPATH"] = mpy_dir
    proc = subprocess.run([firmware.micropython_exe(), "-X", "heapsize=%dK" % heap_kib, "-c", PROBE % cfg_path],
                          env=env, capture_output=True, text=True)
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith("qstr pool:"):
            run.qstr_pool = line[len("qstr pool:"):].strip()
        if line.startswith("RESULT"):
            _, done, peak, alloc = line.split()
            result = done == "True", int(peak), int(alloc)
    return result or (False, 0, (proc.stdout + proc.stderr).strip()[-300:])


def smallest_heap(cfg, mpy_dir, hi):
    lo = 4
    while lo < hi:
        mid = (lo + hi) // 2
        if run(mid, cfg, mpy_dir)[0]:
            hi = mid
        else:
            lo = mid + 1
    return lo


def main():
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as mpy_dir:
        compile_tree(mpy_dir)
        base = {"out": out, "presses": presses_from_args(DEMO_TAPS, "", ""), "rate_hz": 50}
        cfg = Path(out) / "config.json"
        cfg.write_text(json.dumps(dict(base, log=False)))
        cfg = str(cfg)
        done, heap, alloc = run(64, cfg, mpy_dir)
        if not done:
            print("error:", alloc)
        print("default session (no session log) under -X heapsize=64K: %s" % ("completed" if done else "FAILED"))
        if done:     # (else ``alloc`` is the error, printed above)
            print("heap in use after the session, after gc: %d of %d bytes" % (alloc, heap))
        # Interned names (qstrs) are never freed, even with their module unloaded; the pool
        # grows by doubling, so one module too many can cost a new pool of ~7.5 KiB at once.
        run(160, cfg, mpy_dir)
        print("qstr pool after the session: %s" % getattr(run, "qstr_pool", "?"))
        print("smallest heap the session completes in: %d KiB" % smallest_heap(cfg, mpy_dir, 160))
        logged = Path(out) / "config-log.json"
        logged.write_text(json.dumps(base))
        print("smallest heap with the session log on LittleFS: %d KiB"
              % smallest_heap(str(logged), mpy_dir, 160))
        run(160, str(logged), mpy_dir)
        print("qstr pool after the session with the log: %s" % getattr(run, "qstr_pool", "?"))
        return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
