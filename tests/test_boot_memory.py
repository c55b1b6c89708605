"""Boot after a long cut session, in bounded memory (issue 15).

A 3-hour session cut by a power loss is about 300 KB on flash. At the next boot the
store finds it, says where it stopped and closes it; that must stream the file
record by record, so it works on a heap far smaller than the file (the unix port
with a 160 KB heap here), and the session is closed and offered for sync.
"""
import subprocess
import sys
from pathlib import Path

from host_tools import firmware

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "firmware"))

from swcore import logformat as fmt          # noqa: E402
from swcore.logstore import SessionStore     # noqa: E402

BOOT = r"""
import gc
from swcore.logstore import SessionStore
gc.collect()
store = SessionStore(%r)
sid, = store.unfinished()
point = store.resume_point(sid)
store.begin("Next", 0, "0.1.0")          # closes the cut one as interrupted
print("POINT", point["t_ms"], point["index"], point["reps"])
print("LISTED", [s[0] for s in store.sessions()])
"""


def _long_cut_session(root):
    store = SessionStore(str(root))
    w = store.begin("Descending Sprints", 0xCAFE, "0.1.0")
    t = 0
    reps = 0
    for i in range(3 * 3600):                # a sprint summary a second for 3 hours
        t = i * 1000
        if i % 60 == 0:
            w(t, "step_start", {"set": "S", "step": "Sprint", "kind": "sprint", "index": i // 60})
        w(t, "sprint_tick", {"cadence_spm": 170 + i % 20, "peak_g": 2.5})
        if i % 60 == 59:
            reps += 1
            w(t, "rep", {"rep": reps, "start_ms": t - 59000, "duration_ms": 59000,
                         "reason": "motion", "motion": True})
    w.f.close()                              # power lost: never closed
    return w.sid, t, (3 * 3600 - 1) // 60, reps, Path(w.path).stat().st_size


def test_a_long_cut_session_is_closed_at_boot_on_a_heap_smaller_than_the_file(tmp_path):
    sid, last_t, index, reps, size = _long_cut_session(tmp_path / "log")
    assert size > 150 * 1024
    env = firmware.micropython_env([ROOT / "firmware"])
    proc = subprocess.run([firmware.micropython_exe(), "-X", "heapsize=160K", "-c", BOOT % str(tmp_path / "log")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "POINT %d %d %d" % (last_t, index, reps) in proc.stdout, proc.stdout
    assert "LISTED [%d]" % sid in proc.stdout, proc.stdout
    data = (tmp_path / "log" / ("s%07d.log" % sid)).read_bytes()
    _header, records, problems = fmt.read_session(data)
    assert problems == [] and records[-1] == (last_t, "interrupted", {"boot": 2})
