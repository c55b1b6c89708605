"""Per-device BLE sync keys: made on the laptop, written to the board, kept on both sides.

The board holds ``DEVICE_KEY_FILE`` (``sync.key``) in its root folder, in the firmware's
own format (``swcore.syncproto.format_key_file``; the board reads it with
``swrt.ble_mp.load_key``). The laptop keeps each key in the sync database
(``provision``, ``register_in_sync_db``); ``sprintwatch flash`` also writes a host copy
to ``<data dir>/keys/<device id>.json`` (``save_host_key``), which ``sprintwatch sync``
falls back to (``load_host_key``) when its database lacks the key. The data folder is
``$SPRINTWATCH_DATA`` or ``~/.local/share/sprintwatch``.
"""
import hashlib
import json
import os
import secrets
from pathlib import Path

from host_tools import firmware  # noqa: F401
from swcore import syncproto as sp

DEVICE_KEY_FILE = "sync.key"
SECRET_BYTES = sp.KEY_LEN


def new_device_secret():
    """A fresh random secret for one device (from the OS's CSPRNG)."""
    return secrets.token_bytes(SECRET_BYTES)


def new_device_id():
    return "sw-" + secrets.token_hex(4)


def key_id(secret):
    """A short public name for a secret (safe to print; reveals nothing about it)."""
    return hashlib.sha256(b"sprintwatch key id\0" + secret).hexdigest()[:16]


# ---- the board's key file ---------------------------------------------------------
def encode_device_key(device_id, secret):
    """The bytes of the board's key file."""
    return sp.format_key_file(device_id, secret).encode()


def decode_device_key(data):
    """``(device_id, secret)`` from a key file's bytes or text, accepting exactly what
    the board accepts; ValueError naming what is wrong."""
    try:
        text = data.decode() if isinstance(data, (bytes, bytearray)) else data
        return sp.parse_key_file(text)
    except (ValueError, UnicodeError) as e:
        raise ValueError("%s: %s" % (DEVICE_KEY_FILE, e))


def write_key_file(folder, data):
    """Write key file bytes into ``folder`` (a board's drive or a sim device folder),
    beside then renamed; returns its path."""
    path = os.path.join(str(folder), DEVICE_KEY_FILE)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return path


def read_key_file(folder):
    """``(device_id, secret)`` from a folder's key file, None when there is none;
    ValueError when it is damaged."""
    try:
        with open(os.path.join(str(folder), DEVICE_KEY_FILE), "rb") as f:
            data = f.read()
    except OSError:
        return None
    return decode_device_key(data)


def provision(db, device_id=None, name=None):
    """Make (or keep) a device's key in the sync database ``db``; returns
    ``(device_id, secret, key_file_bytes)``. An already known ``device_id`` keeps its
    key, so re-provisioning does not lock out a laptop that synced before."""
    device_id = device_id or new_device_id()
    secret = db.key(device_id)
    if secret is None:
        secret = new_device_secret()
        db.set_key(device_id, secret, name)
    return device_id, secret, encode_device_key(device_id, secret)


# ---- the laptop's copies ------------------------------------------------------------
from host_tools.paths import cache_dir, data_dir  # noqa: E402,F401  (where they used to live)


def host_key_path(device_id):
    return data_dir() / "keys" / ("%s.json" % device_id)


def save_host_key(device_id, secret, **about):
    """Write the host copy (owner-only permissions, written beside and renamed)."""
    path = host_key_path(device_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"device_id": device_id, "key_id": key_id(secret), "secret_hex": secret.hex()}
    doc.update(about)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(tmp, path)
    return path


def load_host_key(device_id):
    """The secret of the host copy for ``device_id``, or None."""
    try:
        doc = json.loads(host_key_path(device_id).read_text())
        return bytes.fromhex(doc["secret_hex"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def sync_db_path(db=None):
    """The sync database to register keys in: ``db``, else the one in the data folder
    (where ``sprintwatch sync`` looks by default)."""
    return Path(db) if db else data_dir() / "sessions.db"


def register_in_sync_db(device_id, secret, name=None, db=None):
    """Give ``sprintwatch sync`` the key too (its database keeps one per device)."""
    from host_tools.sessiondb import SessionDB
    path = sync_db_path(db)
    store = SessionDB(path)
    try:
        store.set_key(device_id, secret, name)
    finally:
        store.close()
    return path
