"""Store fuzzer: random lives of a session store on a folder (both runtimes).

Sessions begin, log, end or are cut by a reboot (sometimes mid-record), get resumed,
acknowledged, damaged by rot, and space is made. Oracles, after every step: the
store never raises where the app calls it; every session it offers decodes with the
shared reader and matches its digest (nothing unreadable is ever offered or
acknowledgeable); every session keeps exactly the records written to it (a cut one
loses at most the record in flight); a finished, unacknowledged session is never
deleted; ids only increase; a resume point is where the session stopped.
"""
import os

from fuzzlib import Rng
from swcore import logformat as fmt
from swcore.logstore import SessionStore

DIFFERENTIAL = False
STORE_EVENTS = ("log_skipped", "interrupted", "resumed", "storage_full", "storage_fault")
EVENTS = ("step_start", "cue", "sprint_go", "rep", "sprint_tick", "pause", "resume", "ignored")


def _root(seed):
    import sys
    path = "/tmp/swfuzz-store-%s-%d" % (sys.implementation.name, seed)
    try:
        os.mkdir(path)
    except OSError:
        pass
    for name in os.listdir(path):
        os.remove(path + "/" + name)
    return path


def _fields(rng, event):
    if event == "rep":
        return {"rep": rng.below(20), "duration_ms": rng.below(60000), "reason": rng.pick(("tap", "motion"))}
    if event == "sprint_tick":
        return {"cadence_spm": rng.below(250), "peak_g": rng.below(500) / 100}
    if event == "step_start":
        return {"set": "S", "step": rng.pick(("Sprint", "Walk", "Hill \U0001F3C3")), "kind": "sprint",
                "index": rng.below(30)}
    return {"n": rng.below(100)}


class Life:
    def __init__(self, rng, root):
        self.rng = rng
        self.root = root
        self.store = SessionStore(root, quota=rng.pick((1 << 20, 1 << 20, 6000)))
        self.written = {}      # sid -> records the fuzzer gave the writer
        self.rotten = set()    # sids whose file was damaged on purpose
        self.torn = {}         # sid -> indexes of the records cuts tore (lost)
        self.finished = set()
        self.acked = set()
        self.last_sid = 0
        self.writer = None

    def path(self, sid):
        for name in os.listdir(self.root):
            if name.startswith("s%07d." % sid) and not name.endswith(".new"):
                return self.root + "/" + name
        return None

    def log(self, n):
        w = self.writer
        t = w.last_t_ms
        for _ in range(n):
            t += self.rng.below(3000)
            ev = self.rng.pick(EVENTS)
            f = _fields(self.rng, ev)
            w(t, ev, f)
            self.written[w.sid].append((t, ev, f))

    def begin(self):
        self.writer = self.store.begin(self.rng.pick(("Descending Sprints", "x" * 300, "P \U0001F3C3")), 7, "0.1.0")
        sid = self.writer.sid
        assert sid > self.last_sid, (sid, self.last_sid)
        self.last_sid = sid
        self.written[sid] = []
        self.log(self.rng.below(25))

    def end(self):
        w = self.writer
        t = w.last_t_ms + 1000
        w(t, "session_end", {"reps": 0, "paused_ms": 0})
        self.written[w.sid].append((t, "session_end", {"reps": 0, "paused_ms": 0}))
        self.finished.add(w.sid)
        self.writer = None

    def reboot(self):
        if self.writer is not None and self.writer.f is not None:
            self.writer.f.close()
            if self.rng.chance(30) and self.written[self.writer.sid]:   # cut in the middle of a record
                p = self.writer.path
                size = os.stat(p)[6]
                with open(p, "rb") as f:
                    data = f.read()
                with open(p, "wb") as f:
                    f.write(data[:size - self.rng.between(1, 5)])
                self.torn.setdefault(self.writer.sid, []).append(len(self.written[self.writer.sid]) - 1)
        self.writer = None
        self.store = SessionStore(self.root, quota=self.store.quota)
        for sid in self.store.unfinished():
            if self.rng.chance(50):
                point = self.store.resume_point(sid)
                mine = [r for r in self.written.get(sid, []) if r[1] not in STORE_EVENTS]
                if sid not in self.torn and sid not in self.rotten and mine:
                    assert point["t_ms"] == max(self.writer_times(sid)), (point, sid)
                self.writer = self.store.resume(sid)
                self.log(self.rng.below(10))
                break

    def writer_times(self, sid):
        return [r[0] for r in self.written[sid]] or [0]

    def rot(self):
        done = [s for s in self.finished if self.path(s)]
        if not done:
            return
        sid = self.rng.pick(sorted(done))
        p = self.path(sid)
        with open(p, "rb") as f:
            data = f.read()
        at = self.rng.below(len(data))
        data = data[:at] + bytes([data[at] ^ (1 + self.rng.below(255))]) + data[at + 1:]
        with open(p, "wb") as f:
            f.write(data)
        self.rotten.add(sid)
        self.store._digest.pop(sid, None)    # (a reboot would forget it too)

    def ack(self):
        listed = self.store.sessions()
        if listed and self.rng.chance(80):
            sid = self.rng.pick(listed)[0]
            self.store.ack(sid)
            self.acked.add(sid)
        else:
            try:
                self.store.ack(self.last_sid + 5)
                raise AssertionError("ack of a session that is not there")
            except ValueError:
                pass

    def check(self):
        st = self.store
        ids = [s[0] for s in st.ids()]
        for sid in self.finished - self.acked:
            assert sid in ids, ("unacknowledged session %d deleted" % sid)
        for sid, size, digest in st.sessions():
            data = st.read(sid, 0, size + 10)
            assert len(data) == size and fmt.session_digest(data) == digest
            header, records, problems = fmt.read_session(data)
            assert header is not None, ("offered but unreadable", sid)
            if sid in self.rotten:
                continue
            mine = [r for r in records if r[1] not in STORE_EVENTS]
            want = self.written.get(sid, [])
            if sid in self.torn:      # a cut loses at most the record it tore
                cuts = len(self.torn[sid])
                assert _subsequence(mine, want) and len(mine) >= len(want) - cuts, (sid, "torn")
                assert len(problems) <= cuts, (sid, "torn", problems)
            else:
                assert problems == [] and mine == want, (sid, problems, len(mine), len(want))


def _subsequence(got, want):
    it = 0
    for rec in got:
        while it < len(want) and want[it] != rec:
            it += 1
        if it == len(want):
            return False
        it += 1
    return True


def run(seed, cases, verbose=False):
    """``cases`` store lives of 12 steps each; returns a summary (not differential)."""
    rng = Rng(seed)
    steps = 0
    for case in range(cases):
        life = Life(rng, _root(seed % 4))
        life.begin()
        for _ in range(12):
            op = rng.below(7)
            if life.writer is None and op < 3:
                life.begin()
            elif op == 0 and life.writer is not None:
                life.end()
            elif op == 1 and life.writer is not None:
                life.log(rng.below(10))
            elif op == 2:
                life.reboot()
            elif op == 3:
                life.rot()
            elif op == 4:
                life.ack()
            elif op == 5:
                life.store.make_room(life.store.low_water * rng.between(1, 40))
            else:
                life.reboot()
            life.check()
            steps += 1
    return "%d store steps" % steps
