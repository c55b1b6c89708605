"""Per-device sync keys: made on the laptop, kept in its database, written to the board.

``sprintwatch flash`` calls ``provision(db)`` and copies the returned text to the
board as ``KEY_FILE`` (the format is ``swcore.syncproto.format_key_file``).
"""
import os

from host_tools import firmware  # noqa: F401
from swcore import syncproto as sp

KEY_FILE = "sync.key"   # on the board's file system, next to main.py


def new_device_id():
    from host_tools.device_keys import new_device_id as make
    return make()


def provision(db, device_id=None, name=None):
    """Make (or keep) a device's key; return ``(device_id, key, key_file_text)``.

    An already known ``device_id`` keeps its key, so re-flashing does not lock out a
    laptop that synced before.
    """
    device_id = device_id or new_device_id()
    key = db.key(device_id)
    if key is None:
        key = os.urandom(sp.KEY_LEN)
        db.set_key(device_id, key, name)
    return device_id, key, sp.format_key_file(device_id, key)


def write_key_file(folder, text):
    """Write the key file into ``folder`` (a board's drive or a sim device folder)."""
    path = os.path.join(str(folder), KEY_FILE)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def read_key_file(folder):
    """``(device_id, key)`` from a folder's key file, or None when there is none."""
    try:
        with open(os.path.join(str(folder), KEY_FILE)) as f:
            text = f.read()
    except OSError:
        return None
    return sp.parse_key_file(text)
