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
    return 0


if __name__ == "__main__":
    sys.exit(main())
