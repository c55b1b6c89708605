"""The laptop's session store: SQLite with raw session bytes, decoded metadata and keys.

Default path ``~/.local/share/sprintwatch/sessions.db`` (``$SPRINTWATCH_DATA`` moves it). Tables:

- ``devices``: ``device_id``, per-device sync ``key`` (32 bytes), ``name``, ``last_sync``;
- ``sessions``: ``(device_id, session_id, digest)``, ``size``, raw ``data``, ``meta``
  (JSON decoded with the firmware's log reader), ``synced_at``, ``acked``. The digest
  (``swcore.logformat.session_digest``, as the device lists it) is part of the key so
  that a device whose storage was wiped (ids starting again) never overwrites a stored
  session. Databases from before the digest (a ``crc32`` column) are converted on open;
- ``partials``: bytes of a session whose download was cut, to resume at that offset.
"""
import json
import sqlite3
import time
from pathlib import Path

from host_tools import firmware  # noqa: F401
from host_tools.device_keys import data_dir
from swcore.logformat import session_digest

DEFAULT_DB = data_dir() / "sessions.db"   # ~/.local/share/sprintwatch/sessions.db unless $SPRINTWATCH_DATA

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY, key BLOB NOT NULL, name TEXT, last_sync INTEGER);
CREATE TABLE IF NOT EXISTS sessions (
    device_id TEXT NOT NULL, session_id INTEGER NOT NULL, size INTEGER NOT NULL,
    digest INTEGER NOT NULL, data BLOB NOT NULL, meta TEXT NOT NULL,
    synced_at INTEGER NOT NULL, acked INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, session_id, digest));
CREATE TABLE IF NOT EXISTS partials (
    device_id TEXT NOT NULL, session_id INTEGER NOT NULL, size INTEGER NOT NULL,
    digest INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (device_id, session_id));
"""


class SessionDBError(ValueError):
    """A database file that cannot be used; the message names it."""
    user_error = True       # host_tools.cli prints the message as it is


class SessionDB:
    def __init__(self, path=DEFAULT_DB):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path))
        try:
            _from_crc32(self.db)
            self.db.executescript(SCHEMA)
            self.db.commit()
        except sqlite3.DatabaseError as e:
            self.db.close()
            raise SessionDBError("%s is not a Sprintwatch session database (%s)" % (self.path, e))

    def close(self):
        self.db.close()

    # -- keys
    def set_key(self, device_id, key, name=None):
        with self.db:
            self.db.execute("INSERT INTO devices (device_id, key, name) VALUES (?, ?, ?) "
                            "ON CONFLICT(device_id) DO UPDATE SET key=excluded.key", (device_id, bytes(key), name))

    def key(self, device_id):
        row = self.db.execute("SELECT key FROM devices WHERE device_id=?", (device_id,)).fetchone()
        return bytes(row[0]) if row else None

    def synced(self, device_id, when):
        with self.db:
            self.db.execute("UPDATE devices SET last_sync=? WHERE device_id=?", (int(when), device_id))

    # -- sessions
    def stored(self, device_id, session_id, digest):
        """``(size, acked)`` of a stored session, or None."""
        return self.db.execute("SELECT size, acked FROM sessions WHERE device_id=? AND session_id=? AND digest=?",
                               (device_id, session_id, digest)).fetchone()

    def store(self, device_id, session_id, digest, data, meta, when):
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO sessions (device_id, session_id, size, digest, data, meta, "
                            "synced_at, acked) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                            (device_id, session_id, len(data), digest, bytes(data), json.dumps(meta), int(when)))
            self.db.execute("DELETE FROM partials WHERE device_id=? AND session_id=?", (device_id, session_id))

    def mark_acked(self, device_id, session_id, digest):
        with self.db:
            self.db.execute("UPDATE sessions SET acked=1 WHERE device_id=? AND session_id=? AND digest=?",
                            (device_id, session_id, digest))

    def sessions(self, device_id=None):
        q = "SELECT device_id, session_id, size, digest, meta, synced_at, acked FROM sessions"
        args = ()
        if device_id:
            q += " WHERE device_id=?"
            args = (device_id,)
        q += " ORDER BY device_id, synced_at, session_id"
        return [(d, s, size, digest, json.loads(meta), at, bool(ack))
                for d, s, size, digest, meta, at, ack in self.db.execute(q, args)]

    def data(self, device_id, session_id):
        row = self.db.execute("SELECT data FROM sessions WHERE device_id=? AND session_id=? "
                              "ORDER BY synced_at DESC, rowid DESC", (device_id, session_id)).fetchone()
        return bytes(row[0]) if row else None

    # -- partial downloads
    def partial(self, device_id, session_id, size, digest):
        """Bytes already downloaded of this exact session (same size and digest), or b""."""
        row = self.db.execute("SELECT size, digest, data FROM partials WHERE device_id=? AND session_id=?",
                              (device_id, session_id)).fetchone()
        if row is None or row[0] != size or row[1] != digest:
            return b""
        return bytes(row[2])

    def save_partial(self, device_id, session_id, size, digest, data):
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO partials VALUES (?, ?, ?, ?, ?)",
                            (device_id, session_id, size, digest, bytes(data)))

    def drop_partial(self, device_id, session_id):
        with self.db:
            self.db.execute("DELETE FROM partials WHERE device_id=? AND session_id=?", (device_id, session_id))


def _from_crc32(db):
    """Convert a database that keyed sessions by whole-file CRC-32 (not an identity:
    see docs/log-format.md) to the digest, computed from the stored bytes. Partial
    downloads are dropped; the next sync reads them again."""
    cols = [row[1] for row in db.execute("PRAGMA table_info(sessions)")]
    if "crc32" not in cols:
        return
    with db:
        db.execute("ALTER TABLE sessions RENAME COLUMN crc32 TO digest")
        for rowid, data in db.execute("SELECT rowid, data FROM sessions").fetchall():
            db.execute("UPDATE sessions SET digest=? WHERE rowid=?", (session_digest(bytes(data)), rowid))
        db.execute("DROP TABLE IF EXISTS partials")


def now():
    return time.time()
