"""The session store on a folder (CPython and the MicroPython unix port): sessions,
reboots, acknowledgements, damaged files and the space rules."""
import os

from expect import raises, Collector
from swcore import logformat as fmt
from swcore.logstore import SessionStore, SessionWriter


def fresh_dir():
    path = "/tmp/swlog-test-%s" % "".join("%02x" % b for b in os.urandom(4))
    os.mkdir(path)
    return path


def wipe(path):
    for name in os.listdir(path):
        os.remove(path + "/" + name)
    os.rmdir(path)


def decode(store, sid):
    data = store.read(sid, 0, 1 << 16)
    return fmt.read_session(data)


def run_session(store, reps=2, end=True):
    """Log a small session like the app does; returns what was logged."""
    w = store.begin("Descending Sprints", 0xCAFE, "0.1.0")
    log = Collector()
    for t, ev, f in session_events(reps, end):
        w(t, ev, f)
        log(t, ev, f)
    return w, log.events


def session_events(reps, end=True):
    out = [(0, "step_start", {"set": "Main", "step": "Sprint Setup", "kind": "open", "index": 0}),
           (0, "cue", {"pattern": "step_start"})]
    t = 5000
    for r in range(1, reps + 1):
        out.append((t, "sprint_go", {"rep": r}))
        out.append((t, "cue", {"pattern": "sprint_go"}))
        for s in range(1, 11):
            out.append((t + s * 1000, "sprint_tick", {"cadence_spm": 170 + s, "peak_g": 2.5}))
        t += 12000
        out.append((t, "rep", {"rep": r, "start_ms": t - 12000, "duration_ms": 12000,
                               "reason": "tap", "motion": False}))
        out.append((t, "cue", {"pattern": "sprint_end"}))
        t += 120000
    if end:
        out.append((t, "session_end", {"reps": reps, "paused_ms": 0}))
    return out


def test_a_finished_session_is_listed_readable_and_exact():
    root = fresh_dir()
    try:
        store = SessionStore(root)
        w, logged = run_session(store)
        assert w.closed and store.unfinished() == []
        (sid, size, digest), = store.sessions()
        data = b""
        while len(data) < size:     # the sync reads it in small pieces
            data += store.read(sid, len(data), 20)
        assert len(data) == size and fmt.session_digest(data) == digest
        assert store.read(sid, size, 20) == b""
        header, records, problems = fmt.read_session(data)
        assert problems == [] and records == logged
        assert header["session"] == sid and header["plan_hash"] == 0xCAFE
        assert header["boot"] == store.boot
        st = store.status()
        assert st["sessions"] == 1 and st["unacked"] == 1 and st["boot"] == 1
        assert "no session" in str(raises(ValueError, store.read, sid + 1, 0, 10))
    finally:
        wipe(root)


def test_ids_boots_and_acks_survive_reboots():
    root = fresh_dir()
    try:
        store = SessionStore(root)
        run_session(store, 1)
        run_session(store, 1)
        first, second = [s[0] for s in store.sessions()]
        assert second > first
        store.ack(first)
        store = SessionStore(root)         # reboot
        assert store.boot == 2
        assert store.status()["unacked"] == 1
        store.make_room(10 ** 12)          # "space is low": only the acknowledged one goes
        assert [s[0] for s in store.sessions()] == [second]
        store = SessionStore(root)         # reboot
        w, _ = run_session(store, 1)
        assert w.sid > second and store.boot == 3
        store.ack(second)
        store.ack(w.sid)
        store.make_room(10 ** 12)
        assert store.sessions() == []
        store = SessionStore(root)         # ids keep growing even with no file left
        w, _ = run_session(store, 1)
        assert w.sid == second + 2
    finally:
        wipe(root)


def test_clock_set_by_the_host_dates_later_sessions():
    root = fresh_dir()
    try:
        now = [1000]
        store = SessionStore(root, now_ms=lambda: now[0])
        run_session(store, 1)
        store.set_clock(1790000000)
        now[0] += 65000
        run_session(store, 1)
        (a, _, _), (b, _, _) = store.sessions()
        assert decode(store, a)[0]["clock_set"] is False
        h = decode(store, b)[0]
        assert h["clock_set"] is True and h["wall_s"] == 1790000065
        assert store.status()["clock_set"] is True
    finally:
        wipe(root)


def test_a_session_cut_by_a_reboot_is_closed_as_interrupted_with_its_data():
    root = fresh_dir()
    try:
        store = SessionStore(root)
        w, logged = run_session(store, 2, end=False)
        store = SessionStore(root)              # power back: the writer never closed
        sid = w.sid
        assert store.unfinished() == [sid]
        assert store.sessions() == []           # not offered to the host while open
        assert "not finished" in str(raises(ValueError, store.ack, sid))
        store.close_interrupted(sid)
        assert store.unfinished() == []
        (got, _, _), = store.sessions()
        _, records, problems = decode(store, got)
        assert problems == [] and records[:-1] == logged
        assert records[-1] == (logged[-1][0], "interrupted", {"boot": 2})
    finally:
        wipe(root)


def test_a_session_cut_by_a_reboot_can_be_resumed():
    root = fresh_dir()
    try:
        store = SessionStore(root)
        w, logged = run_session(store, 1, end=False)
        store = SessionStore(root)
        point = store.resume_point(w.sid)   # the app restarts the step that was running
        plan_hash = point.pop("plan_hash")
        assert point == {"t_ms": logged[-1][0], "index": 0, "reps": 1}
        assert plan_hash == decode(store, w.sid)[0]["plan_hash"]
        w2 = store.resume(w.sid)
        assert w2.last_t_ms == logged[-1][0]
        t = w2.last_t_ms + 5000
        w2(t, "session_end", {"reps": 1, "paused_ms": 0})
        _, records, problems = decode(store, w.sid)
        assert problems == []
        assert records == logged + [(logged[-1][0], "resumed", {"boot": 2}),
                                    (t, "session_end", {"reps": 1, "paused_ms": 0})]
        assert [s[0] for s in store.sessions()] == [w.sid]
    finally:
        wipe(root)


def test_beginning_a_new_session_closes_forgotten_unfinished_ones():
    root = fresh_dir()
    try:
        store = SessionStore(root)
        w, _ = run_session(store, 1, end=False)
        store = SessionStore(root)
        w2, _ = run_session(store, 1)
        assert [s[0] for s in store.sessions()] == [w.sid, w2.sid]
        assert decode(store, w.sid)[1][-1][1] == "interrupted"
    finally:
        wipe(root)


def test_damaged_files_are_skipped_logged_and_hide_nothing():
    root = fresh_dir()
    try:
        store = SessionStore(root)
        run_session(store, 1)
        run_session(store, 1)
        run_session(store, 1)
        a, b, c = [s[0] for s in store.sessions()]
        with open("%s/s%07d.log" % (root, a), "r+b") as f:   # rot in the header
            f.seek(9)
            f.write(b"\x00\x00")
        with open("%s/s%07d.log" % (root, b), "r+b") as f:   # written by a newer firmware
            f.seek(4)
            f.write(bytes([fmt.VERSION + 1]))
        with open("%s/s%07d.new" % (root, c + 1), "wb") as f:  # cut while creating a file
            f.write(b"SWL")
        store = SessionStore(root)
        assert [s[0] for s in store.sessions()] == [c]
        assert store.status()["bad"] == 2
        w, _ = run_session(store, 1)
        assert w.sid == c + 2
        _, records, _ = decode(store, w.sid)
        skipped = [r[2] for r in records if r[1] == "log_skipped"]
        assert len(skipped) == 2
        assert "s%07d.log" % a in skipped[0]["file"] and "CRC" in skipped[0]["why"]
        assert "s%07d.log" % b in skipped[1]["file"] and "version" in skipped[1]["why"]
        store.make_room(10 ** 12)      # damaged files were never acknowledged: kept
        assert sorted(n for n in os.listdir(root) if n.endswith(".log"))[:2] == \
            ["s%07d.log" % a, "s%07d.log" % b]
    finally:
        wipe(root)


def session_bytes():
    """What a 2-rep session takes on a folder store (file + the quota's per-file 64)."""
    root = fresh_dir()
    try:
        store = SessionStore(root)
        run_session(store, 2)
        return store.sessions()[0][1] + 64
    finally:
        wipe(root)


def test_low_space_deletes_oldest_acknowledged_first_never_unacknowledged():
    root = fresh_dir()
    one = session_bytes()
    try:
        # room for about four sessions; below 1.5 sessions free counts as low
        store = SessionStore(root, quota=one * 9 // 2, low_water=one * 3 // 2, reserve=one // 4)
        ids = []
        for i in range(3):
            w, _ = run_session(store, 2)
            ids.append(w.sid)
        store.ack(ids[0])
        store.ack(ids[2])
        w, _ = run_session(store, 2)      # needs room: the oldest acknowledged goes
        left = [s[0] for s in store.sessions()]
        assert ids[0] not in left and ids[1] in left and w.sid in left
        w, _ = run_session(store, 2)
        left = [s[0] for s in store.sessions()]
        assert ids[1] in left and ids[2] not in left   # ids[1] was never acknowledged
    finally:
        wipe(root)


def test_full_of_unsynced_sessions_the_session_goes_on_and_keeps_its_reps():
    root = fresh_dir()
    try:
        one = session_bytes()
        store = SessionStore(root, quota=one * 4, low_water=one * 3 // 2, reserve=one // 2)
        olds = [run_session(store, 2)[0].sid for _ in range(3)]
        warnings = Collector()
        w = store.begin("Descending Sprints", 0xCAFE, "0.1.0")
        w.on_warning = lambda t, ev, f: (warnings(t, ev, f), w(t, ev, f))
        logged = session_events(6)
        for t, ev, f in logged:
            w(t, ev, f)                       # never raises
        assert len(warnings.events) == 1 and warnings.events[0][1] == "storage_full"
        assert [s[0] for s in store.sessions()] == olds + [w.sid]   # nothing deleted
        _, records, problems = decode(store, w.sid)
        assert problems == []
        reps = [r for r in logged if r[1] == "rep"]
        assert [r for r in records if r[1] == "rep"] == reps
        assert [r for r in records if r[1] == "session_end"] == logged[-1:]
        assert len([r for r in records if r[1] in ("cue", "sprint_tick")]) < \
            len([r for r in logged if r[1] in ("cue", "sprint_tick")])
        dropped = [r for r in records if r[1] == "storage_full" and "dropped" in r[2]]
        assert dropped and dropped[0][2]["dropped"] > 0
    finally:
        wipe(root)


def test_a_damaged_state_file_loses_no_id_and_no_session():
    root = fresh_dir()
    try:
        store = SessionStore(root)
        w, _ = run_session(store, 1)
        with open(root + "/state", "w") as f:
            f.write("garbage")
        store = SessionStore(root)
        w2, _ = run_session(store, 1)
        assert w2.sid > w.sid
        assert [s[0] for s in store.sessions()] == [w.sid, w2.sid]
    finally:
        wipe(root)


def test_below_the_reserve_only_essential_records_are_kept_and_every_rep_is():
    root = fresh_dir()
    try:
        one = session_bytes()
        # three unsynced sessions leave about one session's room, under the reserve
        store = SessionStore(root, quota=one * 4, low_water=one * 3, reserve=one * 2)
        olds = [run_session(store, 2)[0].sid for _ in range(3)]
        w = store.begin("Descending Sprints", 0xCAFE, "0.1.0")
        logged = session_events(6)
        for t, ev, f in logged:
            w(t, ev, f)
        assert [s[0] for s in store.sessions()] == olds + [w.sid]   # nothing deleted
        _, records, problems = decode(store, w.sid)
        assert problems == []
        kinds = set(r[1] for r in records)
        assert kinds <= set(("rep", "session_end", "storage_full")), kinds   # nothing else fits
        assert [r for r in records if r[1] == "rep"] == [r for r in logged if r[1] == "rep"]
        assert [r for r in records if r[1] == "session_end"] == logged[-1:]
        dropped = [r for r in records if r[1] == "storage_full" and "dropped" in r[2]]
        assert dropped[0][2]["dropped"] == len([r for r in logged if r[1] not in ("rep", "session_end")])
    finally:
        wipe(root)


def _bad_text_header_file(root, sid):
    """A finished session whose header CRC is right but whose plan name is not UTF-8
    (what MicroPython wrote for a lone surrogate before issue 15)."""
    head = bytearray(fmt.encode_header(sid, 1, "Hill XXX", 0, "0.1.0"))
    at = bytes(head).index(b"XXX")
    head[at:at + 3] = b"\xed\xa0\xbc"
    body_end = len(head) - 4
    crc = fmt.crc32(bytes(head[:body_end]))
    head[body_end:] = bytes([(crc >> s) & 0xFF for s in (0, 8, 16, 24)])
    with open("%s/s%07d.log" % (root, sid), "wb") as f:
        f.write(bytes(head) + fmt.encode_record(5, "rep", {"rep": 1}))


def test_a_session_the_reader_cannot_decode_is_never_offered_nor_acknowledged():
    root = fresh_dir()
    try:
        store = SessionStore(root)
        run_session(store, 1)
        good = store.sessions()[0][0]
        _bad_text_header_file(root, good + 1)
        store = SessionStore(root)
        assert [s[0] for s in store.sessions()] == [good]
        assert store.status()["bad"] == 1
        assert "cannot be read" in str(raises(ValueError, store.ack, good + 1))
        assert "s%07d.log" % (good + 1) in os.listdir(root)        # kept, never deleted
        w, _ = run_session(store, 1)
        _, records, _ = decode(store, w.sid)
        skipped = [r[2] for r in records if r[1] == "log_skipped"]
        assert "s%07d.log" % (good + 1) in skipped[0]["file"] and "UTF-8" in skipped[0]["why"]
    finally:
        wipe(root)


def test_a_long_plan_name_still_gives_a_session_that_is_offered_and_readable():
    root = fresh_dir()
    try:
        store = SessionStore(root)
        w = store.begin("n" * 1000, 1, "0.1.0")
        w(5, "session_end", {"reps": 0, "paused_ms": 0})
        store = SessionStore(root)                          # after a reboot, too
        assert [s[0] for s in store.sessions()] == [w.sid]
        header, records, problems = decode(store, w.sid)
        assert header["plan"] == "n" * fmt.MAX_HEADER_TEXT and records[0][1] == "session_end"
    finally:
        wipe(root)


class _CountingFile:
    def __init__(self, f, counts):
        self.f = f
        self.counts = counts

    def read(self, n=-1):
        data = self.f.read(n)
        self.counts["bytes"] += len(data)
        self.counts["largest"] = max(self.counts["largest"], len(data))
        return data

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def test_a_cut_session_is_read_once_in_pieces_at_boot_and_damage_is_skipped():
    from swcore import logstore
    root = fresh_dir()
    try:
        store = SessionStore(root)
        w, logged = run_session(store, 6, end=False)
        path = w.path
        with open(path, "ab") as f:                          # rot in the middle...
            f.write(bytes((i * 37 + 11) & 0xFF for i in range(3000)))
        w2 = SessionWriter(store, w.sid, path, logged[-1][0])
        w2(logged[-1][0] + 1, "pause", {"step": "Walk", "index": 2})   # ...then good records
        w2.f.close()
        size = os.stat(path)[6]
        store = SessionStore(root)
        counts = {"bytes": 0, "largest": 0}
        real_open = open

        def counting_open(name, mode="r"):
            f = real_open(name, mode)
            if name == path and "r" in mode:
                return _CountingFile(f, counts)
            return f
        logstore.open = counting_open
        try:
            point = store.resume_point(w.sid)
            store.close_interrupted(w.sid)
        finally:
            del logstore.open
        assert point["t_ms"] == logged[-1][0] + 1 and point["reps"] == 6
        assert counts["bytes"] == size                       # read once, not twice
        assert counts["largest"] <= 4096                     # in pieces, not the whole file
        _, records, problems = decode(store, w.sid)
        assert records[-1][1] == "interrupted" and len(problems) == 1
    finally:
        wipe(root)
