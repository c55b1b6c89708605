"""The session's log file at start-up, shared by the MicroPython (main.py) and
CircuitPython (swrt.cp) entry points: a new file, or the offer to go on with the
session a power cut interrupted."""
LOG_DIR = "log"                               # session files (swcore.logstore)


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
