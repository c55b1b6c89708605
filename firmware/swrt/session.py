"""Start-up shared by the MicroPython (main.py) and CircuitPython (swrt.cp) entry
points: reading the board and plan files, the motion pipeline, the console log, and
the session's log file (a new one, or the offer to go on with the session a power
cut interrupted)."""
LOG_DIR = "log"                               # session files (swcore.logstore)
BOARD_FILE = "board.json"


def file_reader(path, limit=None):
    """``read()`` giving the file's text, or None when there is no such file. With a
    ``limit``: its bytes, at most ``limit + 1`` of them (so a parser can tell the file
    is too big without holding all of it)."""
    def read():
        try:
            f = open(path, "rb" if limit else "r")
        except OSError:
            return None                       # no file: the built-in default
        with f:
            return f.read(limit + 1) if limit else f.read()
    return read


PLAN_FILE_LIMIT = 16384                       # = swcore.planjson.MAX_BYTES (not imported: unloaded)


def read_board(root):
    """``(spec, error)``: the checked board definition, or None and why not."""
    from swcore import boardspec
    try:
        text = file_reader(root + BOARD_FILE)()
        if text is None:
            return None, "no %s on the device" % BOARD_FILE
        return boardspec.parse(text), None
    except Exception as e:
        return None, "%s: %s" % (BOARD_FILE, e)


def motion_pipeline(parts, safe):
    """The motion pipeline for a board with a working sensor, else None (button only)."""
    if safe or parts.sensor is None:
        return None
    try:
        from swcore.motion import MotionPipeline
    except ImportError:
        return None
    return MotionPipeline(parts.rate_hz)


def console_sink(t, event, fields):
    """Every event as one JSON line on the serial console."""
    import json
    rec = {"t_ms": t, "event": event}
    for k in fields:
        rec[k] = fields[k]
    print(json.dumps(rec))


def session_store(runner):
    """The store the session logs to (for the sync service), or None."""
    store = None
    for sink in runner.app.sinks:
        store = getattr(sink, "store", store)
    return store


class ResumeOffer:
    """A session a reboot cut, offered at start-up: ``accept`` goes on with it,
    ``decline`` closes it as interrupted (records kept) and starts a new one."""

    def __init__(self, store, sid, point, plan_text, faults):
        self.store = store
        self.sid = sid
        self.point = point
        self.plan_text = plan_text
        self.faults = faults

    def accept(self, app):
        """Re-open the cut session's file as the app's log; returns where it stopped."""
        try:
            writer = self.store.resume(self.sid)
        except Exception as e:
            self.faults.append(("storage_fault", "cannot resume session %d: %s" % (self.sid, e)))
            return None
        writer.on_warning = app.warn
        app.sinks.append(writer)
        for sid in self.store.unfinished():   # older cut sessions: closed, kept
            if sid != self.sid:
                self.store.close_interrupted(sid)
        return self.point

    def decline(self, app):
        from app import start_log
        start_log(self.store, app, self.plan_text, self.faults)


def start_session_log(app, parts, root, plan_text, step_count):
    """The session's file on the board's flash, added to the app's sinks. When a power
    cut left a session of this plan unfinished, returns a ResumeOffer instead (the
    runner asks the runner: a tap goes on with it); older ones are closed as
    interrupted, their records kept."""
    try:
        from app import start_log
        from swcore.logstore import SessionStore
        store = SessionStore(root + LOG_DIR)
    except Exception as e:
        parts.faults.append(("storage_fault", "cannot open the session log: %s" % e))
        return None
    try:
        cut = store.unfinished()
        if cut:
            from swcore.logformat import crc32
            point = store.resume_point(cut[-1])
            same_plan = point["plan_hash"] == (crc32(plan_text.encode()) if plan_text else 0)
            if same_plan and 0 <= point["index"] < step_count:
                return ResumeOffer(store, cut[-1], point, plan_text, parts.faults)
    except Exception as e:                    # an unreadable cut session: start anew
        parts.faults.append(("storage_fault", "cannot read the cut session: %s" % e))
    start_log(store, app, plan_text, parts.faults)
    return None
