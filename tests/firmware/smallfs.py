"""The space rules on a small real LittleFS (MicroPython only; run by tests/test_powercut.py).

Full default sessions, one after another, on a 64 KB flash that nobody syncs: every
session runs to its end, the runner is warned once per session, rep summaries are
kept while the reserve lasts, no unacknowledged session is ever deleted, and once
the flash is physically full sessions still run (logging what fits).
Then the host acknowledges them, and the next session makes room by deleting the
oldest acknowledged ones first.
"""
import os

from expect import Collector
from swcore import logformat as fmt
from swcore.logstore import SessionStore
from swrt.ramblock import RAMBlockDev
from swrt import sim
from powercut import PRESSES

MOUNT = "/small"
OUT = "/tmp/smallfs-sim"


def _session(store):
    seen = Collector()
    app = sim.run({"out": OUT, "presses": PRESSES}, sinks=[seen], store=store)
    assert app.engine.done, "the session stopped"
    return seen


def _records(store, sid):
    _, records, problems = fmt.read_session(store.read(sid, 0, 1 << 16))
    assert problems == [], problems
    return records


def test_small_littlefs_full_of_unsynced_sessions_then_synced():
    try:
        os.mkdir(OUT)
    except OSError:
        pass
    bdev = RAMBlockDev(4096, 16)             # 64 KB in 4 KiB erase blocks, as on the boards
    os.VfsLfs2.mkfs(bdev)
    try:
        os.umount(MOUNT)
    except OSError:
        pass
    os.mount(os.VfsLfs2(bdev), MOUNT)
    try:
        store = SessionStore(MOUNT)
        full_sessions = 0
        warned = 0
        kept = []
        starved = 0
        for i in range(30):
            free_before = store.free()
            seen = _session(store)
            if seen.of("storage_fault"):
                # not even a new file fits: the session ran unlogged, with the error cue
                assert seen.times("cue", pattern="error") == [seen.of("storage_fault")[0][0]]
                assert [s[0] for s in store.sessions()] == kept
                starved += 1
                continue
            sid = store.sessions()[-1][0]
            kept.append(sid)
            warnings = seen.of("storage_full")
            assert len(warnings) <= 1           # warned once per session, not per record
            if warnings:
                warned += 1
                assert seen.times("cue", pattern="warning") == [warnings[0][0]]
            records = _records(store, sid)
            if not warnings:
                full_sessions += 1
                assert records == [e for e in seen.events if e[1] != "storage_full"]
            if free_before >= store.reserve:
                # short of space, but not out of it: the reps are what is kept
                assert [r for r in records if r[1] == "rep"] == seen.of("rep")
            else:
                starved += 1    # flash physically full: the session still ran to its end
            assert [s[0] for s in store.sessions()] == kept   # nothing unsynced deleted
        assert full_sessions >= 5 and warned >= 3 and starved >= 1, (full_sessions, warned, starved)

        for sid in kept[:-1]:                   # the host syncs all but the last
            store.ack(sid)
        store = SessionStore(MOUNT)             # (acks survive a reboot)
        seen = _session(store)
        assert seen.of("storage_full") == []
        left = [s[0] for s in store.sessions()]
        new = left[-1]
        assert kept[-1] in left                 # the unacknowledged one stays
        gone = [sid for sid in kept[:-1] if sid not in left]
        assert gone and gone == kept[:len(gone)]  # oldest acknowledged first
        assert _records(store, new) == seen.events
    finally:
        os.umount(MOUNT)
