"""Per-device BLE sync secrets: made by ``sprintwatch flash``, kept on both sides.

The device holds ``sync.key`` in its root folder: JSON ``{"id": DEVICE_ID, "key": HEX}``
(the format of ``swcore.syncproto.format_key_file`` on the BLE branch). The laptop
keeps a copy in ``<data dir>/keys/<device id>.json`` until the session database
takes keys over; the sync client reads it with :func:`load_host_key`. The data
folder is ``$SPRINTWATCH_DATA`` or ``~/.local/share/sprintwatch``.
"""
import hashlib
import json
import os
import secrets
from pathlib import Path

DEVICE_KEY_FILE = "sync.key"
SECRET_BYTES = 32


def new_device_secret():
    """A fresh random secret for one device (32 bytes from the OS's CSPRNG)."""
    return secrets.token_bytes(SECRET_BYTES)


def new_device_id():
    return "sw-" + secrets.token_hex(4)


def key_id(secret):
    """A short public name for a secret (safe to print; reveals nothing about it)."""
    return hashlib.sha256(b"sprintwatch key id\0" + secret).hexdigest()[:16]


def encode_device_key(device_id, secret):
    return json.dumps({"id": device_id, "key": secret.hex()}).encode()


def decode_device_key(data):
    """``(device_id, secret)`` from a device's key file; ValueError when it is not one."""
    try:
        doc = json.loads(data)
        device_id, secret = doc["id"], bytes.fromhex(doc["key"])
    except (ValueError, KeyError, TypeError):
        raise ValueError("%s is not a key file" % DEVICE_KEY_FILE)
    if not isinstance(device_id, str) or not device_id or len(secret) != SECRET_BYTES:
        raise ValueError("%s: bad id or key length" % DEVICE_KEY_FILE)
    return device_id, secret


def data_dir():
    env = os.environ.get("SPRINTWATCH_DATA")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "sprintwatch"


def keys_dir():
    return data_dir() / "keys"


def host_key_path(device_id):
    return keys_dir() / ("%s.json" % device_id)


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
    """The secret the laptop holds for ``device_id``, or None."""
    try:
        doc = json.loads(host_key_path(device_id).read_text())
    except (OSError, ValueError):
        return None
    return bytes.fromhex(doc["secret_hex"])


def sync_db_path(db=None):
    """The sync database to register keys in: ``db``, else one in $SPRINTWATCH_DATA, else
    the sync's default; None while the sync module is not installed."""
    try:
        from host_tools.sessiondb import DEFAULT_DB
    except ImportError:
        return None
    if db:
        return Path(db)
    if os.environ.get("SPRINTWATCH_DATA"):
        return data_dir() / "sessions.db"
    return Path(DEFAULT_DB)


def register_in_sync_db(device_id, secret, name=None, db=None):
    """Give ``sprintwatch sync`` the key too (its database keeps one per device)."""
    path = sync_db_path(db)
    if path is None:
        return None
    from host_tools.sessiondb import SessionDB
    store = SessionDB(path)
    try:
        store.set_key(device_id, secret, name)
    finally:
        store.close()
    return path


def all_host_keys():
    """[(device_id, secret)] for every device this laptop has flashed."""
    out = []
    if keys_dir().is_dir():
        for p in sorted(keys_dir().glob("*.json")):
            secret = load_host_key(p.stem)
            if secret:
                out.append((p.stem, secret))
    return out
