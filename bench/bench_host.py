"""Laptop-tool figures: command start-up against bare Python, and re-flash against a full flash.

Start-up: the median wall time of `sprintwatch --help` and `sprintwatch plan check FILE`
(the installed console script, as a runner types it) beside `python -c 'import argparse'`
in the same run; the goal is at most 4x.

Flash: `sprintwatch flash --board sim` over the pty stand-in (host_tools/pty_board.py: the
MicroPython unix port behind a pseudo-terminal, answering the raw REPL like a USB board),
first onto an empty board with an empty .mpy cache (everything compiled and copied), then
again with nothing changed; the goal for unchanged/full is at most 0.10.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from host_tools.pty_board import PtyBoard  # noqa: E402

BIN = Path(sys.executable).parent
RUNS = 7


def _cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, env=None, runs=RUNS):
    """Median (wall, CPU) seconds of ``runs`` runs: the CPU time (user + system of the
    command) says the same on a busy machine, where wall time also counts waiting."""
    walls, cpus = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), _cpu()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        walls.append(time.perf_counter() - t)
        cpus.append(_cpu() - c)
        if proc.returncode != 0:
            raise SystemExit("bench: %s failed: %s" % (" ".join(map(str, cmd)), proc.stderr[-500:]))
    return statistics.median(walls), statistics.median(cpus)


def wall(cmd, env=None, runs=RUNS):
    return timed(cmd, env, runs)[0]


def verdict(ratio, goal):
    return "within the goal of %g" % goal if ratio <= goal else "OVER the goal of %g" % goal


def startup(tmp):
    from host_tools import firmware  # noqa: F401
    from swcore.default_plan import DEFAULT_PLAN
    plan = Path(tmp) / "plan.json"
    plan.write_text(DEFAULT_PLAN if isinstance(DEFAULT_PLAN, str) else json.dumps(DEFAULT_PLAN))
    exe = str(BIN / "sprintwatch")
    base, base_cpu = timed([sys.executable, "-c", "import argparse"])
    helps, helps_cpu = timed([exe, "--help"])
    check, check_cpu = timed([exe, "plan", "check", str(plan)])
    print("start-up, wall (median of %d): python -c 'import argparse' %.3f s, sprintwatch --help %.3f s "
          "(%.1fx), plan check %.3f s (%.1fx); %s" % (
              RUNS, base, helps, helps / base, check, check / base,
              verdict(max(helps, check) / base, 4)))
    print("start-up, CPU (user+system): import argparse %.3f s, --help %.3f s (%.1fx), plan check "
          "%.3f s (%.1fx); load average %.1f" % (base_cpu, helps_cpu, helps_cpu / base_cpu, check_cpu,
                                                 check_cpu / base_cpu, os.getloadavg()[0]))


def flash_times(tmp, fulls=3, unchanged_runs=5):
    """Median of ``fulls`` full flashes (each onto an empty board with an empty .mpy cache)
    and of ``unchanged_runs`` flashes of the same tree again."""
    exe = str(BIN / "sprintwatch")
    full_times, unchanged_times, rewritten, files = [], [], 0, 0
    for n in range(fulls):
        run = Path(tmp) / ("flash-%d" % n)
        env = dict(os.environ, SPRINTWATCH_DATA=str(run / "data"), SPRINTWATCH_CACHE=str(run / "cache"))
        root = run / "board"
        root.mkdir(parents=True)
        with PtyBoard(root) as board:
            cmd = [exe, "flash", "--board", "sim", "--port", board.port, "--db", str(run / "s.db")]
            full_times.append(wall(cmd, env, runs=1))
            files = sum(1 for p in root.rglob("*") if p.is_file())
            if n == 0:
                stamps = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
                unchanged_times.append(timed(cmd, env, runs=unchanged_runs)[0])
                rewritten = sum(1 for p in root.rglob("*") if p.is_file() and stamps.get(p) != p.stat().st_mtime_ns)
    full, unchanged = statistics.median(full_times), unchanged_times[0]
    ratio = unchanged / full
    print("flash over the pty stand-in: full (empty board, empty .mpy cache; median of %d) %.2f s, "
          "%d files; unchanged %.2f s (median of %d), %d files rewritten; unchanged/full %.3f, %s; "
          "load average %.1f" % (fulls, full, files, unchanged, unchanged_runs, rewritten, ratio,
                                 verdict(ratio, 0.10), os.getloadavg()[0]))
    return ratio


def main():
    with tempfile.TemporaryDirectory() as tmp:
        startup(tmp)
        flash_times(tmp)


if __name__ == "__main__":
    main()
