"""Find a session by what the user typed: a folder or file, decoded as (header, events).

Accepted: a stored session's id from ``sprintwatch sessions`` (``ID`` or ``DEVICE:ID``,
read from the sync database when that module is installed), a simulator output folder (its ``session-*.swlog``, else its
``events.jsonl``), an ``events.jsonl`` file, a JSON export (``sprintwatch export --format json``), or a session log file
from a board (decoded by the firmware's own ``swcore.logformat``).
"""
import datetime
import json
from pathlib import Path

from host_tools import firmware  # noqa: F401  (firmware on sys.path)


class SessionNotFound(Exception):
    pass


def load_session(ref, db=None):
    """``(header, events)`` for ``ref``; events are ``(t_ms, event, fields)`` tuples."""
    path = Path(ref)
    if not path.exists() and _looks_like_id(str(ref)):
        return load_stored(str(ref), db)
    if path.is_dir():
        logs = sorted(path.glob("session-*.swlog"))
        if logs:   # what the simulated board wrote to its flash, read like a real board's
            return _from_log(logs[-1], logs[-1].read_bytes())
        if (path / "events.jsonl").exists():
            return _from_sim_folder(path)
        raise SessionNotFound("%s has no session log or events.jsonl (is it a `sprintwatch sim "
                              "--out` folder?)" % ref)
    if not path.exists():
        raise SessionNotFound("no session %r: give a session log, an events.jsonl, a sim output "
                              "folder or a JSON export" % ref)
    if path.suffix == ".jsonl":
        return _from_sim_folder(path.parent, path)
    data = path.read_bytes()
    if path.suffix == ".json":
        return _from_json_export(path, data)
    return _from_log(path, data)


def _from_sim_folder(folder, events_path=None):
    events_path = events_path or folder / "events.jsonl"
    events = []
    with open(events_path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                t, ev = rec.pop("t_ms"), rec.pop("event")
            except (ValueError, KeyError):
                raise SessionNotFound("%s line %d: not an event record" % (events_path, n))
            events.append((t, ev, rec))
    header = {"source": str(events_path), "clock_set": False}
    cfg = folder / "sim-config.json"
    header["plan"] = _plan_name(cfg)
    # The simulator has no wall clock: take the run's end as the file's time.
    mtime = events_path.stat().st_mtime
    last = events[-1][0] if events else 0
    header["file_start"] = mtime - last / 1000.0
    return header, events


def _plan_name(cfg_path):
    from swcore import plan as planmod
    from swcore.default_plan import DEFAULT_PLAN
    plan = None
    try:
        plan = json.loads(cfg_path.read_text()).get("plan")
    except (OSError, ValueError):
        pass
    try:
        doc = Path(plan).read_text() if plan else DEFAULT_PLAN
        return planmod.parse(doc)[0]
    except (OSError, planmod.PlanError):
        return None


def _from_json_export(path, data):
    try:
        doc = json.loads(data)
        header = doc["header"]
        events = [(e.pop("t_ms"), e.pop("event"), e) for e in doc["events"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SessionNotFound("%s is not a Sprintwatch JSON export" % path)
    return header, events


def _looks_like_id(ref):
    return ref.rpartition(":")[2].isdigit() and "/" not in ref


def open_store(db=None):
    """The sync database (``sprintwatch sync``), or None when it or its module is absent."""
    try:
        from host_tools.sessiondb import DEFAULT_DB, SessionDB
    except ImportError:
        return None
    path = Path(db) if db else DEFAULT_DB
    return SessionDB(path) if path.exists() else None


def load_stored(ref, db=None):
    store = open_store(db)
    if store is None:
        raise SessionNotFound("no session %r: there is no session database yet (run sprintwatch sync)" % ref)
    device, _, sid = ref.rpartition(":")
    rows = [r for r in store.sessions(device or None) if r[1] == int(sid)]
    devices = sorted({r[0] for r in rows})
    if not rows:
        raise SessionNotFound("no stored session %r (see sprintwatch sessions)" % ref)
    if len(devices) > 1:
        raise SessionNotFound("session %s exists on several devices (%s): give DEVICE:%s"
                              % (sid, ", ".join(devices), sid))
    row = rows[-1]
    header, events = _from_log(Path("%s:%s" % (row[0], sid)), store.data(row[0], row[1]), synced_at=row[5])
    header["device_id"] = row[0]          # exports give each device its own serial number
    return header, events


def stored_sessions(db=None):
    """[(label, header, events)] for every session in the sync database."""
    store = open_store(db)
    if store is None:
        return []
    out = []
    for dev, sid, _size, _digest, _meta, at, _ack in store.sessions():
        label = "%s:%s" % (dev, sid)
        try:
            out.append((label,) + _from_log(Path(label), store.data(dev, sid), synced_at=at))
        except SessionNotFound:
            continue
    return out


def _from_log(path, data, synced_at=None):
    try:
        from swcore import logformat
    except ImportError:
        raise SessionNotFound("%s: reading board session logs needs swcore.logformat "
                              "(not in this firmware yet)" % path)
    header, events, problems = logformat.read_session(data)
    if header is None and not events:
        raise SessionNotFound("%s is not a readable session log (%s)"
                              % (path, "; ".join(map(str, problems)) or "empty"))
    header = dict(header or {})
    if problems:
        header["problems"] = [str(p) for p in problems]
    header.setdefault("source", str(path))
    if not header.get("clock_set") and events:
        end = synced_at if synced_at is not None else path.stat().st_mtime
        header["file_start"] = end - events[-1][0] / 1000.0
    return header, list(events)


def start_time(session):
    """The session's wall-clock start: the log's when the board's clock was set, else the file's."""
    fallback = session.header.get("file_start")
    if fallback is not None:
        fallback = datetime.datetime.fromtimestamp(fallback, datetime.timezone.utc)
    return session.start_time(fallback).replace(microsecond=0)
