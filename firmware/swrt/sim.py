"""The simulated board: virtual time, a replayed accelerometer trace, scripted presses.

Runs the unchanged app on the MicroPython unix port (and on CPython for tests). It
records every cue output and display change, and every event the app emits, to
JSON-lines files. Configuration is a JSON file (written by ``sprintwatch sim``)::

    {"out": DIR, "plan": FILE|null, "trace": FILE.csv|null, "rate_hz": 50,
     "presses": [[t_ms, hold_ms], ...], "limit_s": 14400,
     "flash_kb": 256, "wall_s": UNIX_S|null, "log": true}

The session log goes to a LittleFS file system on a block device kept in
DIR/flash.img (MicroPython) or to the folder DIR/flash (CPython); at the end each session file is copied to
``DIR/session-NNNN.swlog`` and the flash figures to ``DIR/flash-stats.json``.
``"log": false`` runs the session without a log (the core alone, for memory figures).

Run: ``micropython -c "import swrt.sim as s; s.main('config.json')"`` with the
firmware folder on MICROPYPATH.
"""
import gc
import json
import os
import sys

from app import App, load_plan, unload_plan_parser, start_log

STILL = (0, 0, 1000)     # no trace: the device lies still (swcore.trace loads only for a trace)

BOUNCES_MS = (0, 2, 5)   # each scripted press and release bounces like a real switch


class Recorder:
    """Writes what the board does (buzzer, motor, display) and what the app emits."""

    def __init__(self, out_dir):
        self.events = open(out_dir + "/events.jsonl", "w")
        self.actions = open(out_dir + "/actions.jsonl", "w")
        self.tone = 0
        self.motor = 0

    def event(self, t, event, fields):
        rec = {"t_ms": t, "event": event}
        for k in fields:
            rec[k] = fields[k]
        self.events.write(json.dumps(rec) + "\n")

    def apply(self, t, tone_hz, motor):
        if tone_hz != self.tone:
            self.tone = tone_hz
            self.actions.write(json.dumps({"t_ms": t, "part": "buzzer", "hz": tone_hz}) + "\n")
        if motor != self.motor:
            self.motor = motor
            self.actions.write(json.dumps({"t_ms": t, "part": "motor", "on": motor}) + "\n")

    def show(self, t, step, rep, of):
        text = step if not of else "%s %d/%d" % (step, rep, of)
        self.actions.write(json.dumps({"t_ms": t, "part": "display", "text": text}) + "\n")

    def close(self):
        self.events.close()
        self.actions.close()


class SimBoard:
    def __init__(self, recorder):
        self.output = recorder
        self.display = recorder


class PressScript:
    """Scripted presses [(t_ms, hold_ms)] replayed as bouncing (t_ms, pressed) edges.

    Edges are made one press at a time rather than all up front: the simulator
    should not need more heap than the firmware it runs.
    """

    def __init__(self, presses):
        self.presses = sorted(presses)
        self.i = 0
        self.edges = []

    def _refill(self):
        if not self.edges and self.i < len(self.presses):
            t, hold = self.presses[self.i]
            self.i += 1
            for i, b in enumerate(BOUNCES_MS):
                self.edges.append((t + b, i % 2 == 0))
            for i, b in enumerate(BOUNCES_MS):
                self.edges.append((t + hold + b, i % 2 == 1))

    def due(self, now, button):
        """Hand every edge up to ``now`` to ``button(pressed, t)``."""
        self._refill()
        while self.edges and self.edges[0][0] <= now:
            t, pressed = self.edges.pop(0)
            button(pressed, t)
            self._refill()

    def finished(self):
        return not self.edges and self.i >= len(self.presses)


def _read_plan(path):
    if not path:
        return lambda: None

    def read():
        with open(path) as f:
            return f.read()
    return read


LOG_MOUNT = "/swlog"
FLASH_BLOCK = 4096


def open_flash(cfg):
    """A fresh session store: LittleFS on a block device kept in DIR/flash.img under
    MicroPython (returns the device too, for its counters), a folder under CPython.
    (Imported here, after the plan parser is unloaded, so the two never share the heap.)"""
    from swcore.logstore import SessionStore
    if hasattr(os, "VfsLfs2"):
        from swrt.fileblock import FileBlockDev
        bdev = FileBlockDev(cfg["out"] + "/flash.img", FLASH_BLOCK,
                            cfg.get("flash_kb", 256) * 1024 // FLASH_BLOCK)
        os.VfsLfs2.mkfs(bdev)
        try:
            os.umount(LOG_MOUNT)
        except OSError:
            pass
        os.mount(os.VfsLfs2(bdev), LOG_MOUNT)
        return SessionStore(LOG_MOUNT), bdev
    root = cfg["out"] + "/flash"
    try:
        for name in os.listdir(root):
            os.remove(root + "/" + name)
    except OSError:
        pass
    return SessionStore(root, quota=cfg.get("flash_kb", 256) * 1024), None


def export_sessions(store, out):
    """Copy every session file off the simulated flash: DIR/session-NNNN.swlog."""
    from swcore.logformat import FILE_EXT
    names = {}
    for sid, _state in store.ids():
        name = "session-%04d%s" % (sid, FILE_EXT)
        with open(out + "/" + name, "wb") as f:
            offset = 0
            while True:
                chunk = store.read(sid, offset, 256)
                if not chunk:
                    break
                f.write(chunk)
                offset += len(chunk)
        names[sid] = name, offset
    return names


def run(cfg, sinks=(), store=None):
    """Run one session in virtual time; returns the app (for tests). ``store`` is a
    SessionStore to log to; by default a fresh simulated flash (``open_flash``)."""
    out = cfg["out"]
    rate = cfg.get("rate_hz", 50)
    recorder = Recorder(out)
    script = PressScript(cfg.get("presses", ()))
    name, steps, text, error = load_plan(_read_plan(cfg.get("plan")))
    unload_plan_parser()
    gc.collect()
    board = SimBoard(recorder)
    from swcore.motion import MotionPipeline   # after the plan parser is gone: a smaller peak
    app = App(board, name, steps, [recorder.event] + list(sinks), MotionPipeline(rate))
    bdev = None
    if store is None and cfg.get("log", True):
        store, bdev = open_flash(cfg)
    writer = None
    if store is not None:
        if cfg.get("wall_s"):
            store.set_clock(cfg["wall_s"])
        writer = start_log(store, app, text)
    w0 = bdev.writes if bdev is not None else 0
    e0 = bdev.erases if bdev is not None else 0
    trace = None
    if cfg.get("trace"):
        from swcore.trace import TraceReader
        trace = TraceReader(cfg["trace"], rate)
    limit_ms = int(cfg.get("limit_s", 4 * 3600) * 1000)
    k = 0
    now = 0
    app.start(0, error)
    while now <= limit_ms:
        script.due(now, app.button)
        sample = trace.sample() if trace is not None else STILL
        app.sample(sample[0], sample[1], sample[2], now)
        app.service(now)
        if app.engine.done and not app.player.busy():
            break
        if script.finished() and app.idle() and (trace is None or trace.ended):
            step = app.engine.step
            recorder.event(now, "sim_stopped", {
                "why": "waiting for a press that the script does not make",
                "step": step["name"] if step else ""})
            break
        k += 1
        now = k * 1000 // rate
    recorder.close()
    if writer is not None:
        files = export_sessions(store, out)
        stats = {"files": [files[sid][0] for sid in sorted(files)], "records": writer.records,
                 "dropped": writer.dropped, "bytes": files[writer.sid][1]}
        if bdev is not None:
            stats["block_writes"] = bdev.writes - w0
            stats["erases"] = bdev.erases - e0
            stats["block_size"] = bdev.block_size
        with open(out + "/flash-stats.json", "w") as f:
            f.write(json.dumps(stats))
    return app


def main(config_path):
    with open(config_path) as f:
        cfg = json.load(f)
    try:
        app = run(cfg)
    except ValueError as e:           # a bad --trace: say so, no traceback (exit 4)
        from swcore.trace import TraceError   # (not before: it would stay in the heap)
        if not isinstance(e, TraceError):
            raise
        print("error: %s" % e)
        sys.exit(4)
    sys.exit(0 if app.engine.done else 3)
