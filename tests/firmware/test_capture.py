"""Raw capture into the session log (CPython and the MicroPython unix port): exact round
trip, no allocation between blocks, and a full flash stops the capture, never the session."""
import os

from expect import Collector
from swcore import logformat as fmt
from swcore.capture import RawCapture, capture_wanted
from swcore.logstore import SessionStore

try:
    from micropython import heap_lock, heap_unlock
except (ImportError, AttributeError):
    def heap_lock():
        pass

    def heap_unlock():
        return 0


def fresh_dir():
    path = "/tmp/swcap-test-%s" % "".join("%02x" % b for b in os.urandom(4))
    os.mkdir(path)
    return path


def wipe(path):
    for name in os.listdir(path):
        os.remove(path + "/" + name)
    os.rmdir(path)


def _sample(i):
    """A made-up sample with big jumps, the extremes of +-16 g and negative values."""
    if i % 37 == 0:
        return (16000, -16000, 15999)
    return ((i * 731) % 4001 - 2000, (i * 197) % 901 - 450, 1000 + (i * 53) % 301)


def _raw_samples(store, sid):
    _, records, problems = fmt.read_session(store.read(sid, 0, 1 << 20))
    assert problems == [], problems
    out = []
    for t, ev, f in records:
        if ev == "accel_raw":
            out.append((t, f["rate_hz"], f["samples"]))
    return out, records


def test_every_sample_comes_back_exactly_with_its_time():
    root = fresh_dir()
    try:
        store = SessionStore(root)
        w = store.begin("Capture", 0, "0.1.0")
        stops = Collector()
        cap = RawCapture(w, 50, stops)
        sent = []
        for i in range(175):                       # 3.5 s at 50 Hz
            s = _sample(i)
            sent.append(list(s))
            cap.add(s[0], s[1], s[2], 1000 + i * 20)
        cap.flush()                                 # the app does this at session_end
        w(5000, "session_end", {"reps": 0, "paused_ms": 0})
        blocks, _ = _raw_samples(store, w.sid)
        assert [b[0] for b in blocks] == [1000, 2000, 3000, 4000], [b[0] for b in blocks]
        assert all(b[1] == 50 for b in blocks)
        got = []
        for b in blocks:
            got.extend(b[2])
        assert got == sent
        assert stops.events == []
    finally:
        wipe(root)


def test_adding_samples_between_blocks_allocates_nothing():
    root = fresh_dir()
    try:
        store = SessionStore(root)
        w = store.begin("Capture", 0, "0.1.0")
        cap = RawCapture(w, 100, Collector())
        heap_lock()
        try:
            for i in range(99):                     # one short of a block
                cap.add(i, -i, 1000, i * 10)
        finally:
            heap_unlock()
        assert cap.n == 99
    finally:
        wipe(root)


def test_a_full_flash_stops_the_capture_with_a_warning_and_the_session_goes_on():
    root = fresh_dir()
    try:
        probe = SessionStore(root)
        w = probe.begin("Capture", 0, "0.1.0")
        w(0, "session_end", {"reps": 0, "paused_ms": 0})
        one = len(probe.read(w.sid, 0, 1 << 16)) + 2000
        store = SessionStore(root, quota=one * 3, low_water=one, reserve=one // 4)
        w = store.begin("Capture", 0, "0.1.0")
        warnings = Collector()
        cap = RawCapture(w, 50, warnings)
        for i in range(50 * 60):                    # a minute: far more than the space left
            s = _sample(i)
            cap.add(s[0], s[1], s[2], i * 20)
        w(61000, "rep", {"rep": 1, "start_ms": 1000, "duration_ms": 20000, "reason": "tap", "motion": False})
        w(62000, "session_end", {"reps": 1, "paused_ms": 0})
        assert [e[1] for e in warnings.events] == ["capture_stopped"], warnings.events
        assert "full" in warnings.events[0][2]["why"]
        blocks, records = _raw_samples(store, w.sid)
        assert 0 < len(blocks) < 60
        assert [r[1] for r in records if r[1] in ("rep", "session_end")] == ["rep", "session_end"]
        assert store.sessions()[0][0] == probe.sessions()[0][0]    # nothing unsynced deleted
    finally:
        wipe(root)


def test_only_a_plan_saying_capture_true_captures():
    assert capture_wanted('{"name": "x", "capture": true, "sets": []}')
    assert not capture_wanted('{"name": "x", "capture": false, "sets": []}')
    assert not capture_wanted('{"name": "x", "sets": [], "note": "no \\"capture\\" here"}')
    assert not capture_wanted(None)
