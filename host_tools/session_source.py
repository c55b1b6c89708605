"""Find a session by what the user typed: a folder or file, decoded as (header, events).

Accepted: a simulator output folder (its ``session-*.swlog``, else its
``events.jsonl``), an ``events.jsonl`` file, a JSON export (``sprintwatch export --format json``), or a session log file
from a board (decoded by the firmware's own ``swcore.logformat``).
"""
import datetime
import json
from pathlib import Path

from host_tools import firmware  # noqa: F401  (firmware on sys.path)


class SessionNotFound(Exception):
    pass


def load_session(ref):
    """``(header, events)`` for ``ref``; events are ``(t_ms, event, fields)`` tuples."""
    path = Path(ref)
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


def _from_log(path, data):
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
        header["file_start"] = path.stat().st_mtime - events[-1][0] / 1000.0
    return header, list(events)


def start_time(session):
    """The session's wall-clock start: the log's when the board's clock was set, else the file's."""
    fallback = session.header.get("file_start")
    if fallback is not None:
        fallback = datetime.datetime.fromtimestamp(fallback, datetime.timezone.utc)
    return session.start_time(fallback).replace(microsecond=0)
