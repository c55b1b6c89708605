"""Session log figures: bytes per default 6-rep session and block writes per record.

Runs the default session (demo taps) on the simulated board under MicroPython,
whose log goes to LittleFS on a 4 KiB-block flash, and reads the counters the
simulator leaves in flash-stats.json. Also the same session plus a sprint_tick a
second during each sprint (what the motion pipeline will add).
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from host_tools import firmware  # noqa: E402
from host_tools.sim import DEMO_TAPS, presses_from_args, run_sim  # noqa: E402
from swcore import logformat  # noqa: E402


def main():
    with tempfile.TemporaryDirectory() as out:
        events = run_sim(out, presses=presses_from_args(DEMO_TAPS, "", ""))
        stats = json.loads((Path(out) / "flash-stats.json").read_text())
        data = (Path(out) / stats["files"][0]).read_bytes()
    header, records, problems = logformat.read_session(data)
    assert not problems and len(records) == len([e for e in events if e["event"] != "sim_stopped"])
    print("default 6-rep session: %d records, %d bytes on flash (%.1f bytes a record, header %d)"
          % (stats["records"], stats["bytes"], stats["bytes"] / stats["records"],
             logformat.check_header(data)))
    print("LittleFS, %d-byte blocks: %d block writes (%.1f per record), %d erases (%.1f per record)"
          % (stats["block_size"], stats["block_writes"], stats["block_writes"] / stats["records"],
             stats["erases"], stats["erases"] / stats["records"]))
    ticks = 0
    for e in events:
        if e["event"] == "rep":
            ticks += e["duration_ms"] // 1000
    tick = logformat.encode_record(1800000, "sprint_tick", {"cadence_spm": 182, "peak_g": 3.41})
    print("with a sprint_tick a second during sprints: +%d records of %d bytes = %d bytes"
          % (ticks, len(tick), stats["bytes"] + ticks * len(tick)))
    boot_after_damage()
    return 0


# Boot with a cut session whose file holds 16 KiB of rot (pseudo-random bytes) between
# good records: the store streams it once to find where it stopped and closes it.
DAMAGED_BOOT = r"""
import os, time
from swcore import logformat as fmt
from swcore.logstore import SessionStore
root = %r
store = SessionStore(root, quota=1 << 22)
w = store.begin("Descending Sprints", 1, "0.1.0")
for i in range(50):
    w(i * 1000, "sprint_tick", {"cadence_spm": 170, "peak_g": 2.5})
x = 12345
junk = bytearray(16384)
for i in range(len(junk)):
    x = (x * 1103515245 + 12345) & 0x7FFFFFFF
    junk[i] = x >> 16 & 0xFF
w.f.write(junk)
for i in range(50, 60):
    w(i * 1000, "sprint_tick", {"cadence_spm": 170, "peak_g": 2.5})
w.f.close()
t0 = time.ticks_ms()
store = SessionStore(root, quota=1 << 22)
sid, = store.unfinished()
point = store.resume_point(sid)
store.close_interrupted(sid)
print("RESULT", time.ticks_diff(time.ticks_ms(), t0), point["t_ms"])
"""


def boot_after_damage():
    with tempfile.TemporaryDirectory() as root:
        proc = subprocess.run([firmware.micropython_exe(), "-c", DAMAGED_BOOT % (root + "/log")],
                              env=firmware.micropython_env(), capture_output=True, text=True)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT")]
    if not lines:
        print("boot after damage: failed: %s" % (proc.stdout + proc.stderr)[-300:])
        return
    ms, t = lines[0].split()[1:]
    print("boot with a cut session holding 16 KiB of rot (unix port, source modules): %s ms to find "
          "where it stopped (t %s ms) and close it, the file read once" % (ms, t))


if __name__ == "__main__":
    sys.exit(main())
