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


def _fill_key(count, seed):
    """What a fill's files depend on: the firmware's sources, this module, count, seed."""
    import hashlib
    from pathlib import Path
    h = hashlib.sha256(b"%d %d\0" % (count, seed))
    for src in sorted(firmware.FIRMWARE_DIR.rglob("*.py")) + [Path(__file__)]:
        h.update(src.name.encode() + b"\0" + src.read_bytes())
    return h.hexdigest()[:24]


def fill(store, count, seed=1):
    """Run ``count`` default sessions on the simulated board, logging into ``store``.

    An empty store gets the files of an earlier identical fill from the cache folder
    when there is one (same firmware sources, count and seed: the runs are
    deterministic), so each ``sync --sim`` on a new device does not rerun them all.
    """
    import os
    from pathlib import Path
    from host_tools.paths import cache_dir
    if store.ids():
        return _run_sessions(store, count, seed)
    cached = cache_dir() / "simstore" / _fill_key(count, seed)
    if not cached.is_dir():
        work = Path(tempfile.mkdtemp(prefix="fill-", dir=_mkdir(cached.parent)))
        _run_sessions(open_store(work), count, seed)
        try:
            os.rename(work, cached)       # whole fills only; a racing twin's copy is as good
        except OSError:
            shutil.rmtree(work, ignore_errors=True)
    for f in cached.iterdir():
        if f.is_file():
            shutil.copy2(f, Path(store.root) / f.name)
    store.__init__(store.root, quota=store.quota)     # read the copied files as at boot


def _mkdir(path):
    path.mkdir(parents=True, exist_ok=True)
    return path


def _run_sessions(store, count, seed):
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
