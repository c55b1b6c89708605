"""Session files on the board's file system: one append-only file per session.

Plain file calls only (open, os.listdir, os.rename, os.stat, os.remove, os.statvfs),
so it runs on CPython (a folder), MicroPython's VfsLfs2 and VfsFat alike.

A session's life is written in its file name, and every change of state is one
rename (atomic on LittleFS)::

    s0000012.new  header being written (holds no record; removed at boot)
    s0000012.prt  session running, or cut by a reboot (``unfinished()``)
    s0000012.log  finished, not yet acknowledged by the host
    s0000012.ack  finished and stored by the host: the only kind ever deleted

Every record is written with one ``write`` and then flushed (LittleFS commits it
atomically), so a power cut loses at most the record in flight. ``state`` holds the
boot counter and the next session id, so ids keep increasing across reboots.
"""
import os

from swcore import logformat as fmt

EXT_NEW = "new"
EXT_OPEN = "prt"
EXT_DONE = "log"
EXT_ACKED = "ack"
STATE = "state"

# Under low space these go first, then everything but ESSENTIAL.
DROPPABLE = ("cue", "sprint_tick", "ignored", "motion_no_tap", "accel_raw", "gesture")
ESSENTIAL = ("rep", "session_end", "storage_full", "storage_fault", "interrupted",
             "resumed", "plan_fallback", "sensor_fault", "log_skipped")

LEVEL_OK = 0       # plenty of space
LEVEL_LOW = 1      # below low water, nothing acknowledged left to delete: drop DROPPABLE
LEVEL_CRITICAL = 2  # below the reserve: keep ESSENTIAL only


def _errno(e):
    return e.args[0] if e.args else 0


def _ticks_ms():
    import time
    try:
        return time.ticks_ms()
    except AttributeError:
        return int(time.monotonic() * 1000)


def _ticks_diff(a, b):
    """a - b for ticks_ms values, which wrap on the boards."""
    import time
    try:
        return time.ticks_diff(a, b)
    except AttributeError:
        return a - b


def _chunks(f):
    while True:
        chunk = f.read(512)
        if not chunk:
            return
        yield chunk


def _minus(a, b):
    return a - b


class SessionStore:
    def __init__(self, root, quota=None, low_water=None, reserve=None, now_ms=None):
        """Open the store in folder ``root`` (created if missing) and count a boot.

        ``quota`` (bytes) caps the space used, for a folder on a big disk (tests, the
        simulator on CPython); on a board the file system's own size is the cap.
        ``low_water``: below this many free bytes, acknowledged sessions are deleted,
        oldest first. ``reserve``: below this, only essential records are written.
        """
        self.root = root.rstrip("/") if len(root) > 1 else root
        self.quota = quota
        self.now_ms = now_ms or _ticks_ms
        self._diff = _minus if now_ms else _ticks_diff
        self.clock = None          # (unix_s, ms) when the wall clock was set
        self.problems = []         # files skipped, as (file, why); logged in the next session
        self._digest = {}          # session id -> logformat.session_digest of a finished file
        self._bad = {}             # session id -> why its header is unreadable
        self._points = {}          # session id -> resume point of an unfinished file (one scan)
        self.writer = None
        try:
            os.mkdir(self.root)
        except OSError:
            pass
        total = self._total()
        self.low_water = low_water if low_water is not None else min(16384, total // 8)
        # The reserve keeps room for a session's rep summaries. A file system spends
        # whole blocks (LittleFS copies the block it appends to), so never under 4.
        self.reserve = reserve if reserve is not None else max(min(4096, total // 32), 4 * self._block())
        boot, next_id = self._read_state()
        for sid, ext in self._scan():
            if sid >= next_id:
                next_id = sid + 1
        self.boot = boot + 1
        self.next_id = next_id
        self._write_state()
        for sid, ext in self._scan():
            if ext == EXT_NEW:  # cut while writing the header: no record in it
                self._remove(self._path(sid, ext))
            else:
                self._check_header(sid, ext)
        fmt.unload_reader()

    # ---- paths and state ----------------------------------------------------------
    def _path(self, sid, ext):
        return "%s/s%07d.%s" % (self.root, sid, ext)

    def _scan(self):
        """Every session file as ``(id, ext)``, oldest first."""
        out = []
        for name in os.listdir(self.root):
            name = name.lower()
            if len(name) == 12 and name[0] == "s" and name[8] == "." and name[1:8].isdigit():
                ext = name[9:]
                if ext in (EXT_NEW, EXT_OPEN, EXT_DONE, EXT_ACKED):
                    out.append((int(name[1:8]), ext))
        out.sort()
        return out

    def _find(self, sid):
        for s, ext in self._scan():
            if s == sid and ext != EXT_NEW:
                return ext
        raise ValueError("no session %d" % sid)

    def _read_state(self):
        best = (0, 1)
        for name in (STATE, STATE + ".new"):
            try:
                with open(self.root + "/" + name) as f:
                    parts = f.read().split()
                boot, next_id, crc = int(parts[0]), int(parts[1]), int(parts[2], 16)
                if fmt.crc32(("%d %d" % (boot, next_id)).encode()) == crc:
                    best = (max(best[0], boot), max(best[1], next_id))
            except (OSError, ValueError, IndexError):
                pass
        return best

    def _write_state(self):
        """Persist boot counter and next id. A full or failing flash must not stop a
        boot: session ids stay increasing anyway, as they also follow the file names."""
        text = "%d %d" % (self.boot, self.next_id)
        new = self.root + "/" + STATE + ".new"
        try:
            with open(new, "w") as f:
                f.write("%s %08x\n" % (text, fmt.crc32(text.encode())))
            self._replace(new, self.root + "/" + STATE)
        except OSError as e:
            self.problems.append((STATE, "not saved: %s" % e))

    def _replace(self, src, dst):
        try:
            os.rename(src, dst)
        except OSError:  # FAT will not rename over a file
            self._remove(dst)
            os.rename(src, dst)

    def _remove(self, path):
        try:
            os.remove(path)
        except OSError:
            pass

    def _check_header(self, sid, ext):
        """Note a file whose header the shared reader cannot decode (damaged, another
        format version, text that is not UTF-8): it is never offered for sync, so the
        host can never acknowledge a session it could not read."""
        path = self._path(sid, ext)
        try:
            with open(path, "rb") as f:
                fmt.decode_header(f.read(fmt.MAX_BODY + 16))
            self._bad.pop(sid, None)
        except Exception as e:    # OSError, FormatError, or anything bytes could cause
            why = str(e) if isinstance(e, (OSError, fmt.FormatError)) else "%s: %s" % (type(e).__name__, e)
            if sid not in self._bad:
                self.problems.append((path[len(self.root) + 1:], why))
            self._bad[sid] = why

    # ---- space --------------------------------------------------------------------
    def _total(self):
        if self.quota is not None:
            return self.quota
        s = os.statvfs(self.root)
        return s[1] * s[2]

    def _block(self):
        if self.quota is not None:
            return 512
        return os.statvfs(self.root)[1]

    def free(self):
        """Free bytes for sessions."""
        if self.quota is not None:
            used = 0
            for name in os.listdir(self.root):
                used += os.stat(self.root + "/" + name)[6] + 64
            return max(0, self.quota - used)
        s = os.statvfs(self.root)
        return s[1] * s[4]

    def make_room(self, want):
        """Delete acknowledged sessions, oldest first, until ``want`` bytes are free
        or none is left; returns the free bytes."""
        free = self.free()
        if free >= want:
            return free
        for sid, ext in self._scan():
            if ext == EXT_ACKED:
                self._remove(self._path(sid, ext))
                self._digest.pop(sid, None)
                free = self.free()
                if free >= want:
                    break
        return free

    # ---- wall clock ---------------------------------------------------------------
    def set_clock(self, unix_s):
        """The host's wall clock (Unix seconds); later sessions carry real dates."""
        self.clock = (int(unix_s), self.now_ms())

    def wall_now(self):
        """Unix seconds now, or None when the clock was never set since boot."""
        if self.clock is None:
            return None
        return self.clock[0] + self._diff(self.now_ms(), self.clock[1]) // 1000

    # ---- sessions -----------------------------------------------------------------
    def begin(self, plan, plan_hash, fw, builtin=False):
        """Start a new session file; returns its writer (an app sink).

        Sessions a reboot left unfinished and nobody resumed are closed first (after
        room is made: on a full flash, closing one needs a little space too)."""
        self.make_room(self.low_water)
        for sid in self.unfinished():
            try:
                self.close_interrupted(sid)
            except OSError as e:          # full: it stays unfinished, its data kept
                self.problems.append((self._path(sid, EXT_OPEN), "cannot close: %s" % e))
        sid = self.next_id
        self.next_id += 1
        self._write_state()
        head = fmt.encode_header(sid, self.boot, plan, plan_hash, fw, self.wall_now(), builtin)
        new = self._path(sid, EXT_NEW)
        with open(new, "wb") as f:
            f.write(head)
        path = self._path(sid, EXT_OPEN)
        os.rename(new, path)
        writer = SessionWriter(self, sid, path, 0)
        for name, why in self.problems:
            writer(0, "log_skipped", {"file": name, "why": why})
        self.problems = []
        self.writer = writer
        return writer

    def unfinished(self):
        """Ids of sessions cut by a reboot (no session running in this boot)."""
        running = self.writer.sid if self.writer is not None and not self.writer.closed else -1
        return [sid for sid, ext in self._scan()
                if ext == EXT_OPEN and sid != running and sid not in self._bad]

    def resume_point(self, sid):
        """Where an unfinished session stopped, for the app to go on from:
        ``{"t_ms": last record's time, "index": step running then, "reps": reps done,
        "plan_hash": the plan it ran}`` (index -1 when no step had started).
        The file is streamed record by record (constant RAM however long the session)
        and read once a boot: ``close_interrupted`` and ``resume`` use the same pass."""
        point = self._points.get(sid)
        if point is None:
            point = {"t_ms": 0, "index": -1, "reps": 0, "plan_hash": None}

            def visit(t, event, fields):
                point["t_ms"] = t
                if event == "step_start":
                    point["index"] = fields.get("index", -1)
                elif event == "rep":
                    point["reps"] += 1
            try:
                from swcore import logread
                with open(self._path(sid, self._find(sid)), "rb") as f:
                    header, _damaged, _torn = logread.scan_file(f, visit)
                point["plan_hash"] = header.get("plan_hash") if header else None
            except OSError:
                pass
            finally:
                fmt.unload_reader()
            self._points[sid] = point
        return dict(point)

    def _last_t(self, sid):
        t = self.resume_point(sid)["t_ms"]
        self._points.pop(sid, None)     # the file grows from here
        return t

    def close_interrupted(self, sid):
        """Close an unfinished session as interrupted; its records are kept."""
        if self._find(sid) != EXT_OPEN:
            raise ValueError("session %d is not unfinished" % sid)
        t = self._last_t(sid)
        writer = SessionWriter(self, sid, self._path(sid, EXT_OPEN), t)
        writer(t, "interrupted", {"boot": self.boot})
        writer.close()

    def resume(self, sid):
        """Go on with an unfinished session; returns its writer. ``writer.last_t_ms``
        is the time of its last record, where the session clock carries on."""
        if self._find(sid) != EXT_OPEN:
            raise ValueError("session %d is not unfinished" % sid)
        t = self._last_t(sid)
        writer = SessionWriter(self, sid, self._path(sid, EXT_OPEN), t)
        writer(t, "resumed", {"boot": self.boot})
        self.writer = writer
        return writer

    def ids(self):
        """Every session on the store as ``(id, state)``, oldest first; state is
        "unfinished", "finished" or "acknowledged"."""
        names = {EXT_OPEN: "unfinished", EXT_DONE: "finished", EXT_ACKED: "acknowledged"}
        return [(sid, names[ext]) for sid, ext in self._scan() if ext in names]

    def _closed(self, sid):
        """The writer finished ``sid``: make it visible to the host."""
        os.rename(self._path(sid, EXT_OPEN), self._path(sid, EXT_DONE))

    # ---- the sync side ------------------------------------------------------------
    def sessions(self):
        """Finished sessions as ``(session_id, size, digest)``, oldest first
        (digest: ``logformat.session_digest`` of the file). Whenever a file is read
        for its digest its header is checked again, so one that rotted since boot is
        not offered either."""
        out = []
        checked = False
        for sid, ext in self._scan():
            if ext not in (EXT_DONE, EXT_ACKED) or sid in self._bad:
                continue
            path = self._path(sid, ext)
            try:
                size = os.stat(path)[6]
                digest = self._digest.get(sid)
                if digest is None:
                    checked = True
                    if not self._readable(sid, ext):
                        continue
                    with open(path, "rb") as f:
                        digest = fmt.session_digest(_chunks(f))
                    self._digest[sid] = digest
            except OSError:
                continue
            out.append((sid, size, digest))
        if checked:
            fmt.unload_reader()
        return out

    def _readable(self, sid, ext):
        """Check the header again (``_check_header``); True when it decodes."""
        self._check_header(sid, ext)
        return sid not in self._bad

    def read(self, session_id, offset, n):
        """Up to ``n`` bytes of a session file from ``offset`` (b"" past the end)."""
        if offset < 0 or n < 0:
            raise ValueError("offset and length must not be negative")
        ext = self._find(session_id)
        with open(self._path(session_id, ext), "rb") as f:
            f.seek(offset)
            return f.read(n)

    def ack(self, session_id):
        """The host has stored this session: it may be deleted when space runs low."""
        ext = self._find(session_id)
        if ext == EXT_OPEN:
            raise ValueError("session %d is not finished" % session_id)
        if session_id in self._bad or not self._readable(session_id, ext):
            fmt.unload_reader()
            raise ValueError("session %d cannot be read (%s)" % (session_id, self._bad[session_id]))
        fmt.unload_reader()
        if ext == EXT_DONE:
            os.rename(self._path(session_id, EXT_DONE), self._path(session_id, EXT_ACKED))

    def status(self):
        done = [ext for _, ext in self._scan() if ext in (EXT_DONE, EXT_ACKED)]
        return {"free": self.free(), "total": self._total(), "sessions": len(done),
                "unacked": done.count(EXT_DONE), "unfinished": len(self.unfinished()),
                "bad": len(self._bad), "boot": self.boot, "next_session": self.next_id,
                "clock_set": self.clock is not None}


class SessionWriter:
    """An app sink: ``writer(t_ms, event, fields)`` appends one record and flushes.

    It never raises. When space runs low it deletes acknowledged sessions; when
    there are none left it calls ``on_warning(t, "storage_full", fields)`` once and
    drops cue and tick records, then everything but ESSENTIAL ones.
    A ``session_end`` record closes the session.
    """

    def __init__(self, store, sid, path, last_t_ms):
        self.store = store
        self.sid = sid
        self.path = path
        self.last_t_ms = last_t_ms
        self.closed = False
        self.records = 0
        self.dropped = 0
        self.level = LEVEL_OK
        self.budget = 0             # bytes to write before looking at free space again
        self.warned = False
        self.backoff = 0            # records to skip after a failed write, doubling
        self.backoff_left = 0
        self.on_warning = None
        self.f = None
        self._open()

    def _open(self):
        try:
            self.f = open(self.path, "ab")
        except OSError as e:
            self.f = None
            self._fault(self.last_t_ms, "cannot open %s: %s" % (self.path, e))

    def __call__(self, t, event, fields):
        if self.closed:
            return
        try:
            self._write(t, event, fields)
        except Exception as e:  # the session goes on without its log
            self._fault(t, "%s: %s" % (type(e).__name__, e))
        if event == "session_end":
            self.close()

    def _write(self, t, event, fields):
        try:
            rec = fmt.encode_record(t, event, fields)
        except fmt.FormatError as e:
            rec = fmt.encode_record(t, "storage_fault", {"event": str(event), "error": str(e)})
        if len(rec) > self.budget:
            self._check_space(t)
        if not self._keeps(event) or self.backoff_left > 0:
            self.backoff_left -= 1
            self.dropped += 1
            return
        if self.f is None:
            self._open()
            if self.f is None:
                return
        try:
            self.f.write(rec)
            self.f.flush()
        except OSError as e:
            # The record is lost; reopen so nothing half-written is committed.
            try:
                self.f.close()
            except OSError:
                pass
            self.f = None
            self.budget = 0
            self.dropped += 1
            # a failing flash: try again after 1, 2, 4 ... 32 records, not at each one
            self.backoff = min(32, self.backoff * 2 or 1)
            self.backoff_left = self.backoff
            if _errno(e) == 28:  # ENOSPC
                self.level = LEVEL_CRITICAL
                self._warn(t, 0)
            else:
                self._fault(t, "write failed: %s" % e)
            return
        self.records += 1
        self.backoff = 0
        self.last_t_ms = t
        self.budget -= 2 * len(rec)

    def _keeps(self, event):
        if self.level == LEVEL_OK:
            return True
        if self.level == LEVEL_LOW:
            return event not in DROPPABLE
        return event in ESSENTIAL

    def _check_space(self, t):
        store = self.store
        free = store.make_room(store.low_water)
        if free >= store.low_water:
            self.level = LEVEL_OK
            self.budget = (free - store.low_water) // 2
        elif free >= store.reserve:
            self.level = LEVEL_LOW
            self.budget = (free - store.reserve) // 2
        else:
            self.level = LEVEL_CRITICAL
            self.budget = 0
        if self.level != LEVEL_OK:
            self._warn(t, free)

    def _warn(self, t, free):
        if self.warned:
            return
        self.warned = True
        fields = {"free": free}
        if self.on_warning is not None:
            self.on_warning(t, "storage_full", fields)
        else:
            self(t, "storage_full", fields)

    def _fault(self, t, detail):
        if self.warned:
            return
        self.warned = True
        if self.on_warning is not None:
            try:
                self.on_warning(t, "storage_fault", {"error": detail})
            except Exception:
                pass

    def close(self):
        """Finish the session: write what was dropped, close, hand it to the host."""
        if self.closed:
            return
        if self.dropped:
            d = self.dropped
            self.dropped = 0
            self._write(self.last_t_ms, "storage_full", {"dropped": d})
        self.closed = True
        try:
            if self.f is not None:
                self.f.close()
            self.store._closed(self.sid)
        except OSError as e:
            self.closed = False
            self._fault(self.last_t_ms, "cannot close session %d: %s" % (self.sid, e))
            self.closed = True
