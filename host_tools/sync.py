"""Sync logic: download every session the laptop lacks, verify, store, ack, set the clock.

Written against ``Transport`` only, so it is the same code over bleak or Bumble. A
dropped link reconnects and resumes at the first byte not yet received (bytes already
verified are kept, in memory and in the database's ``partials``); a frame that fails its
tag or counter ends the connection (new keys on the next one) and the download resumes
the same way. A whole session is checked against the digest the device listed
(``swcore.logformat.session_digest``) before it is stored, and the ACK carries a proof
computed over every stored byte (docs/ble-protocol.md).
"""
import time

from host_tools import firmware  # noqa: F401
from host_tools.syncclient import AuthError, ChunkError, DeviceError, SyncClient, TamperedFrame
from host_tools.transport import LinkLost
from swcore.logformat import session_digest

MAX_TRIES_WITHOUT_PROGRESS = 4
MAX_BAD_CHUNKS_PER_SESSION = 8


class SyncFailed(Exception):
    """Sync stopped; the message says why and what was kept."""


class SyncReport:
    def __init__(self):
        self.device_id = None
        self.synced = []         # (session_id, size)
        self.acked = []          # session ids acknowledged this time
        self.clock_set = None    # unix seconds sent
        self.reconnects = 0
        self.bad_chunks = 0
        self.data_bytes = 0      # chunk payload bytes accepted (no byte twice)
        self.resumed_from = {}   # session_id -> offset a download resumed at
        self.resent = 0          # requests sent again (a reply lost or a request dropped)
        self.refused = []        # ACKs the device refused (session id, message)
        self.tampered = 0        # connections ended because a device frame failed its tag or counter
        self.firmware = None     # the device's firmware version (its INFO "fw")
        self.battery_pct = None  # the device's battery level (STATUS), when it measures one


def session_metadata(data):
    """Decode what the firmware's log reader can tell about a session file."""
    meta = {"size": len(data)}
    try:
        from swcore import logformat
    except ImportError:
        return meta
    try:
        header, records, problems = logformat.read_session(data)
    except Exception as e:  # the reader promises not to raise; keep the bytes anyway
        meta["problems"] = ["decode failed: %s" % e]
        return meta
    if header is not None:
        for k in ("session", "plan", "plan_hash", "fw", "boot", "clock_set", "wall_s", "builtin"):
            if k in header:
                meta[k] = header[k]
    meta["records"] = len(records)
    for r in records:            # the battery record the firmware logs at the start
        if r[1] == "battery":
            for k in ("battery_mv", "battery_pct", "external", "no_cell"):
                if k in r[2]:
                    meta[k] = r[2][k]
            break
    meta["reps"] = sum(1 for r in records if r[1] == "rep")
    ends = [r for r in records if r[1] == "session_end"]
    meta["ended"] = bool(ends)
    if records:
        meta["duration_ms"] = records[-1][0]
    if problems:
        meta["problems"] = problems
    return meta


class _Download:
    """One session's bytes, kept across reconnects."""

    def __init__(self, entry, have):
        self.sid, self.size, self.digest = entry
        self.buf = bytearray(have)

    def add(self, offset, chunk):
        assert offset == len(self.buf)
        self.buf += chunk


async def sync(transport, db, progress=None, clock=time.time, log=lambda msg: None):
    """Run one sync over ``transport``; returns a SyncReport. ``progress(n)`` gets bytes."""
    report = SyncReport()
    state = {"downloads": {}}
    tries = 0
    while True:
        before = report.data_bytes + len(report.acked)
        try:
            await transport.connect()
            try:
                await _session(transport, db, report, state, progress, clock, log)
                return report
            finally:
                await transport.close()
        except (LinkLost, TimeoutError) as e:   # a device that stops answering: reconnect too
            if isinstance(e, TamperedFrame):
                report.tampered += 1
            _save_partials(db, report, state)
            if report.data_bytes + len(report.acked) > before:
                tries = 0
            tries += 1
            if tries >= MAX_TRIES_WITHOUT_PROGRESS:
                raise SyncFailed("%s; gave up after %d tries (partial data kept, next sync resumes)" % (e, tries))
            report.reconnects += 1
            log("link lost (%s); reconnecting" % e)


def _save_partials(db, report, state):
    for d in state["downloads"].values():
        if 0 < len(d.buf) < d.size:
            db.save_partial(report.device_id, d.sid, d.size, d.digest, d.buf)


async def _session(transport, db, report, state, progress, clock, log):
    client = SyncClient(transport, log=log)
    try:
        await _session_steps(client, db, report, state, progress, clock, log)
    finally:
        report.resent += client.resent


async def _session_steps(client, db, report, state, progress, clock, log):
    info = await client.info()
    dev = info.get("id")
    if not info.get("provisioned") or not dev:
        raise AuthError("device is not provisioned with a sync key (run sprintwatch flash)")
    if report.device_id not in (None, dev):
        raise SyncFailed("reconnected to a different device (%s, not %s)" % (dev, report.device_id))
    report.device_id = dev
    report.firmware = info.get("fw") or report.firmware
    key = db.key(dev)
    if key is None:  # flashed from this laptop with another database: the host key copy
        from host_tools import device_keys
        key = device_keys.load_host_key(dev)
        if key is not None:
            db.set_key(dev, key)
    if key is None:
        raise AuthError("no key for device %s in %s (provision it with sprintwatch flash)" % (dev, db.path))
    await client.authenticate(key, dev)
    report.battery_pct = (await client.status()).get("battery_pct")
    # All of them, not just those after the newest acked id: the list is short (the
    # device deletes acked sessions when it needs room) and this survives a device
    # whose storage was wiped and whose ids start again.
    listed = await client.list_sessions()
    todo, unacked = [], []
    for entry in listed:
        have = db.stored(dev, entry[0], entry[2])
        data = db.data(dev, entry[0]) if have is not None and not have[1] else None
        if have is None or have[0] != entry[1]:
            todo.append(entry)
        elif not have[1]:
            if data is None or session_digest(data) != entry[2]:
                todo.append(entry)       # not the stored copy's bytes: fetch it again
            else:
                unacked.append((entry, data))
    # Stored last time, but the ack was lost with the link: all at once.
    answers = await client.pipeline([client.ack_request(e[0], data) for e, data in unacked])
    for (entry, _data), answer in zip(unacked, answers):
        _ack_done(db, report, dev, entry, answer, log)
    downloads = state["downloads"]
    for entry in todo:
        if entry[0] not in downloads:
            downloads[entry[0]] = _Download(entry, db.partial(dev, entry[0], entry[1], entry[2]))
    if progress is not None and "total" not in state:
        state["total"] = sum(e[1] for e in todo)
        done = sum(len(downloads[e[0]].buf) for e in todo)
        progress.start(state["total"], done)
    for entry in todo:
        d = downloads[entry[0]]
        meta = await _download(client, db, report, d, progress, clock, log)
        if "session" not in meta:   # the shared reader cannot decode it: kept here, never acknowledged
            log("session %d: stored, not acknowledged: %s" % (entry[0], "; ".join(meta.get("problems", ["unreadable"]))))
            del downloads[entry[0]]
            continue
        try:
            answer = await client.request(*client.ack_request(entry[0], d.buf))
        except DeviceError as e:
            answer = e
        _ack_done(db, report, dev, entry, answer, log)
        del downloads[entry[0]]
    t = int(clock())
    await client.set_clock(t)
    report.clock_set = t
    db.synced(dev, t)


def _ack_done(db, report, dev, entry, answer, log):
    if isinstance(answer, DeviceError):
        # The device refuses an ACK whose proof does not match its bytes: keep ours
        # stored, leave it unacknowledged (nothing is deleted on the device).
        report.refused.append((entry[0], str(answer)))
        log("session %d: the device refused the acknowledgement: %s" % (entry[0], answer))
        return
    db.mark_acked(dev, entry[0], entry[2])
    report.acked.append(entry[0])


async def _download(client, db, report, d, progress, clock, log):
    if d.buf:
        report.resumed_from.setdefault(d.sid, len(d.buf))
    bad = 0
    retried = False

    def on_chunk(offset, chunk):
        d.add(offset, chunk)
        report.data_bytes += len(chunk)
        if progress is not None:
            progress.advance(len(chunk))

    while True:
        if len(d.buf) < d.size:
            try:
                await client.read(d.sid, len(d.buf), 0, on_chunk)
            except ChunkError as e:
                bad += 1
                report.bad_chunks += 1
                log("session %d: bad chunk at offset %d; reading it again" % (d.sid, e.offset))
                if bad > MAX_BAD_CHUNKS_PER_SESSION:
                    raise SyncFailed("session %d: too many bad chunks" % d.sid)
                continue
        if len(d.buf) == d.size and session_digest(d.buf) == d.digest:
            break
        if retried:
            raise SyncFailed("session %d: digest mismatch after reading it twice; not acknowledged" % d.sid)
        retried = True  # every chunk passed but the whole does not: read it all again
        log("session %d: digest mismatch; downloading it again" % d.sid)
        d.buf = bytearray()
        db.drop_partial(report.device_id, d.sid)
    meta = session_metadata(bytes(d.buf))
    db.store(report.device_id, d.sid, d.digest, d.buf, meta, clock())
    report.synced.append((d.sid, d.size))
    return meta
