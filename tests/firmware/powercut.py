"""Power cuts at every single block write of a full default session (MicroPython only).

The session runs once on a RAM flash that journals every block write and erase. A
power cut after write k leaves exactly the first k journal entries on the flash (or
k-1 and half of write k: a torn write), so instead of running the session once per
write, the test replays the journal one entry at a time and, at every k, mounts a
copy of the flash as it was and checks what a runner would notice: the device boots,
every record finished before the cut is there, at most the record in flight is
lost, nothing damaged is read as a record, the cut session is found and closed as
interrupted, and a new session can start.

Needs os.VfsLfs2 / os.VfsFat: run by tests/test_powercut.py on the unix port.
"""
import os
import sys

from swcore import logformat as fmt
from swcore.logstore import SessionStore
from swrt.ramblock import RAMBlockDev, replay
from swrt import sim

# The demo taps of `make run` (host_tools/sim.py DEMO_TAPS), plus a pause and resume.
TAPS_S = (905, 910, 925, 1055, 1070, 1200, 1215, 1345, 1360, 1490, 1505, 1635, 1650)
PRESSES = [[s * 1000, 120] for s in TAPS_S] + [[1800000, 1500], [1815000, 1500]]
PRESSES.sort()
MOUNT = "/pcut"
CHECK = "/pchk"
OUT = "/tmp"


class MarkingWriter:
    """Wraps the session writer: notes in the flash journal when each record is done."""

    def __init__(self, writer, bdev):
        self.writer = writer
        self.bdev = bdev

    def __call__(self, t, event, fields):
        self.writer(t, event, fields)
        self.bdev.mark(self.writer.records)

    def __getattr__(self, name):
        return getattr(self.writer, name)


class MarkingStore(SessionStore):
    bdev = None

    def begin(self, *args):
        w = SessionStore.begin(self, *args)
        self.bdev.mark("begun")
        return MarkingWriter(w, self.bdev)


def _umount(path):
    try:
        os.umount(path)
    except OSError:
        pass


def record_session(vfs, block_size, blocks):
    """Run the default session on a journaling flash. Returns (bdev, base image,
    the session's records as written, marks)."""
    bdev = RAMBlockDev(block_size, blocks)
    vfs.mkfs(bdev)
    base = bytes(bdev.data)
    bdev.journal = []
    _umount(MOUNT)
    os.mount(vfs(bdev), MOUNT)
    MarkingStore.bdev = bdev
    store = MarkingStore(MOUNT)
    out = OUT + "/powercut-%s" % vfs.__name__
    try:
        os.mkdir(out)
    except OSError:
        pass
    app = sim.run({"out": out, "presses": PRESSES}, store=store)
    assert app.engine.done, "the scripted session did not finish"
    sid = store.sessions()[0][0]
    _, records, problems = fmt.read_session(store.read(sid, 0, 1 << 16))
    assert problems == [] and len(records) > 80
    os.umount(MOUNT)
    return bdev, base, records


def check_image(vfs, image, block_size, blocks, records, done, begun, strict):
    """Boot on a flash image left by a cut; ``done`` records had been written."""
    bdev = RAMBlockDev(block_size, blocks)
    bdev.data = image
    _umount(CHECK)
    os.mount(vfs(bdev), CHECK)
    try:
        store = SessionStore(CHECK)               # the device boots
        ids = store.ids()
        if not begun:
            assert len(ids) <= 1, ids
        else:
            assert len(ids) == 1, ids
        old = None
        if ids:
            old, state = ids[0]
            _, got, problems = fmt.read_session(store.read(old, 0, 1 << 16))
            n = len(got)
            assert got == records[:n], "a record read back differs from the one written"
            assert done <= n <= done + 1, (done, n)   # at most the record in flight lost
            if strict:
                assert problems == [], problems
            if state == "unfinished":
                assert store.unfinished() == [old]
                store.close_interrupted(old)
            else:
                assert n >= len(records) - 1
        w = store.begin("After the cut", 1, "0.1.0")   # and a new session starts
        w(0, "step_start", {"step": "Easy Jog", "index": 0})
        w(10, "session_end", {"reps": 0, "paused_ms": 0})
        listed = [s[0] for s in store.sessions()]
        assert listed[-1] == w.sid and (old is None or listed == [old, w.sid]), listed
        if old is not None:
            _, got, _ = fmt.read_session(store.read(old, 0, 1 << 16))
            assert got[:n] == records[:n]
    finally:
        os.umount(CHECK)


def cut_everywhere(vfs, block_size, blocks, strict, torn=True, shard=(0, 1)):
    """Check a cut after every write k (and one torn inside it); with ``shard`` (i, n)
    only the k with k % n == i, so n test processes share the work."""
    part, parts = shard
    bdev, base, records = record_session(vfs, block_size, blocks)
    journal = bdev.journal
    marks = bdev.marks
    image = bytearray(base)
    done = 0
    begun = False
    mi = 0
    for k in range(len(journal) + 1):
        while mi < len(marks) and marks[mi][0] <= k:
            if marks[mi][1] == "begun":
                begun = True
            else:
                done = marks[mi][1]
            mi += 1
        mine = k % parts == part
        if mine:
            check_image(vfs, bytearray(image), block_size, blocks, records, done, begun, strict)
        if k < len(journal):
            a, b = journal[k]
            if mine and torn and len(b) > 1:    # the cut hits in the middle of write k
                half = bytearray(image)
                half[a:a + len(b) // 2] = b[:len(b) // 2]
                check_image(vfs, half, block_size, blocks, records, done, begun, strict)
            image[a:a + len(b)] = b
    return len(journal), len(records)


# LittleFS in two halves (even and odd writes) that together check every cut: the
# two processes of `make test` run them side by side.
def test_power_cut_at_every_even_write_on_littlefs():
    writes, records = cut_everywhere(os.VfsLfs2, 4096, 32, strict=True, shard=(0, 2))
    print("littlefs: %d writes and erases, %d records, each even cut checked (plus torn)" % (writes, records))


def test_power_cut_at_every_odd_write_on_littlefs():
    writes, records = cut_everywhere(os.VfsLfs2, 4096, 32, strict=True, shard=(1, 2))
    print("littlefs: %d writes and erases, %d records, each odd cut checked (plus torn)" % (writes, records))


def test_power_cut_at_every_write_on_fat():
    writes, records = cut_everywhere(os.VfsFat, 512, 256, strict=True)
    print("FAT: %d block writes, %d records, each cut checked" % (writes, records))


def test_replay_rebuilds_the_flash():
    bdev, base, _ = record_session(os.VfsLfs2, 4096, 32)
    assert replay(len(base), bdev.journal, len(bdev.journal), base) == bdev.data


class FailingBlockDev(RAMBlockDev):
    """Flash that starts failing every write after ``fail_after`` writes (a dying chip,
    a brown-out): LittleFS gets an I/O error from then on."""
    fail_after = -1

    def writeblocks(self, block, buf, offset=None):
        if 0 <= self.fail_after <= self.writes:
            raise OSError(5)   # EIO
        RAMBlockDev.writeblocks(self, block, buf, offset)

    def ioctl(self, op, arg):
        if op == 6 and 0 <= self.fail_after <= self.writes:
            return -5
        return RAMBlockDev.ioctl(self, op, arg)


def _fresh_failing_store():
    bdev = FailingBlockDev(4096, 32)
    os.VfsLfs2.mkfs(bdev)
    _umount(MOUNT)
    os.mount(os.VfsLfs2(bdev), MOUNT)
    return bdev, SessionStore(MOUNT)


def test_failing_flash_never_stops_the_session():
    from expect import Collector
    bdev, store = _fresh_failing_store()   # a clean run first, to know how many writes a session makes
    base = bdev.writes
    sim.run({"out": OUT, "presses": PRESSES}, store=store)
    total = bdev.writes - base
    os.umount(MOUNT)
    for fraction in (0.1, 0.35, 0.6, 0.9):     # (0.1 was once spent on the clean run)
        bdev, store = _fresh_failing_store()
        bdev.fail_after = bdev.writes + int(total * fraction)
        seen = Collector()
        app = sim.run({"out": OUT, "presses": PRESSES}, sinks=[seen], store=store)
        assert app.engine.done                                  # the session ran to its end
        assert len(seen.of("storage_fault")) == 1, seen.of("storage_fault")   # told once
        assert seen.times("cue", pattern="warning") == [seen.of("storage_fault")[0][0]]
        os.umount(MOUNT)
        bdev.fail_after = -1                                    # power back, flash fine
        os.mount(os.VfsLfs2(bdev), MOUNT)
        store = SessionStore(MOUNT)
        (sid, state), = store.ids()
        _, records, problems = fmt.read_session(store.read(sid, 0, 1 << 16))
        assert problems == [] and len(records) > 0
        logged = [e for e in seen.events if e[1] != "storage_fault"]
        assert records == logged[:len(records)]                # what is there is right
        os.umount(MOUNT)
