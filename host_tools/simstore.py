"""The simulated device's flash: the firmware's own session store in a folder, filled
with real sessions by running the firmware simulator (``swrt.sim``) on the default plan.
"""
import random
import shutil
import tempfile

from host_tools import firmware  # noqa: F401
from host_tools.sim import DEMO_TAPS
from swcore.logstore import SessionStore

DAY_S = 86400
FIRST_SESSION_S = 1788000000     # 2026-08-29: wall clock of the first simulated session
FLASH_QUOTA = 2 * 1024 * 1024


def open_store(folder):
    return SessionStore(str(folder), quota=FLASH_QUOTA)


def runner_taps(rnd):
    """The demo taps, each a little early or late, as a runner's would be."""
    out = []
    last = 0
    for s in DEMO_TAPS.split(","):
        t = max(last + 3, float(s) + rnd.uniform(-2.0, 4.0))
        out.append([round(t * 1000), 120])
        last = t
    return out


def fill(store, count, seed=1):
    """Run ``count`` default sessions on the simulated board, logging into ``store``."""
    import swrt.sim as sim
    rnd = random.Random(seed)
    day = len(store.sessions())
    for i in range(count):
        out = tempfile.mkdtemp(prefix="sw-sim-")
        try:
            sim.run({"out": out, "presses": runner_taps(rnd), "rate_hz": 50,
                     "wall_s": FIRST_SESSION_S + (day + i) * DAY_S}, store=store)
        finally:
            shutil.rmtree(out, ignore_errors=True)
