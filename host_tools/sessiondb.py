"""The laptop's session store: SQLite with raw session bytes, decoded metadata and keys.

Default path ``<user data dir>/sessions.db`` (platformdirs: ``~/.local/share/sprintwatch`` on
Linux, ``~/Library/Application Support/sprintwatch`` on macOS, ``%LOCALAPPDATA%/sprintwatch``
on Windows; ``$SPRINTWATCH_DATA`` moves it). The database and its folder are the owner's
only (0600/0700). Sync keys are not in it: they live in ``sessions.keys`` beside it
(JSON ``{device_id: hex key}``, mode 0600, written beside and renamed); a database from
before that has its keys moved there on open. Tables:

- ``devices``: ``device_id``, ``key`` (empty: see above), ``name``, ``last_sync``;
- ``sessions``: ``(device_id, session_id, digest)``, ``size``, raw ``data``, ``meta``
  (JSON decoded with the firmware's log reader), ``synced_at``, ``acked``. The digest
  (``swcore.logformat.session_digest``, as the device lists it) is part of the key so
  that a device whose storage was wiped (ids starting again) never overwrites a stored
  session. Databases from before the digest (a ``crc32`` column) are converted on open;
- ``partials``: bytes of a session whose download was cut, to resume at that offset.
"""
import json
import os
import sqlite3
import time
from pathlib import Path

from host_tools import firmware  # noqa: F401
from host_tools.paths import data_dir
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
        self.keys_path = self.path.with_name(self.path.stem + ".keys")
        if not self.path.parent.exists():
            self.path.parent.mkdir(mode=0o700, parents=True)
        fresh = not self.path.exists()
        if fresh:           # created owner-only: sessions are personal data
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        self.db = sqlite3.connect(str(self.path))
        try:
            _from_crc32(self.db)
            self.db.executescript(SCHEMA)
            self.db.commit()
            self._keys_out_of_database()
        except sqlite3.DatabaseError as e:
            self.db.close()
            raise SessionDBError("%s is not a Sprintwatch session database (%s)" % (self.path, e))

    # -- keys: in the 0600 key file, never in the database
    def _read_keys(self):
        try:
            with open(self.keys_path) as f:
                doc = json.load(f)
            return doc if isinstance(doc, dict) else {}
        except (OSError, ValueError):
            return {}

    def _write_keys(self, keys):
        tmp = self.keys_path.with_name(self.keys_path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(keys, f, indent=1, sort_keys=True)
        os.chmod(tmp, 0o600)          # O_CREAT's mode does not apply to an existing file
        os.replace(tmp, self.keys_path)

    def _keys_out_of_database(self):
        rows = self.db.execute("SELECT device_id, key FROM devices WHERE length(key) > 0").fetchall()
        if rows:
            keys = self._read_keys()
            keys.update({d: bytes(k).hex() for d, k in rows})
            self._write_keys(keys)
            with self.db:
                self.db.execute("UPDATE devices SET key=X''")
            self.db.execute("VACUUM")       # no copy left in free pages
        if self.path.exists() and self.path.stat().st_mode & 0o077:
            os.chmod(self.path, 0o600)
    def close(self):
        self.db.close()

    # -- keys
    def set_key(self, device_id, key, name=None):
        keys = self._read_keys()
        keys[device_id] = bytes(key).hex()
        self._write_keys(keys)
        with self.db:
            self.db.execute("INSERT INTO devices (device_id, key, name) VALUES (?, X'', ?) "
                            "ON CONFLICT(device_id) DO NOTHING", (device_id, name))

    def key(self, device_id):
        hexkey = self._read_keys().get(device_id)
        try:
            return bytes.fromhex(hexkey) if isinstance(hexkey, str) else None
        except ValueError:
            return None

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

    def delete(self, device_id, session_id):
        """Remove a stored session (every copy of that id); returns how many rows went."""
        with self.db:
            n = self.db.execute("DELETE FROM sessions WHERE device_id=? AND session_id=?",
                                (device_id, session_id)).rowcount
            self.db.execute("DELETE FROM partials WHERE device_id=? AND session_id=?", (device_id, session_id))
        return n

    def rename(self, device_id, session_id, title):
        """Give a stored session a title of the user's (kept in its meta as ``title``)."""
        rows = self.db.execute("SELECT rowid, meta FROM sessions WHERE device_id=? AND session_id=?",
                               (device_id, session_id)).fetchall()
        with self.db:
            for rowid, meta in rows:
                doc = json.loads(meta)
                if title:
                    doc["title"] = title
                else:
                    doc.pop("title", None)
                self.db.execute("UPDATE sessions SET meta=? WHERE rowid=?", (json.dumps(doc), rowid))
        return len(rows)

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
