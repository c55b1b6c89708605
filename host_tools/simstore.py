"""A folder-backed stand-in for the board's session log store, for ``sync --sim``.

Same API as the firmware's log store (``sessions``, ``read``, ``ack``, ``status``,
``set_clock``): one file per session (``NNNNNN.ses``), acks and clock in ``state.json``.
"""
import json
import os
import random
import zlib
from pathlib import Path

DEFAULT_SESSION_BYTES = 3600   # about one default 6-rep session


class FolderStore:
    def __init__(self, root):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._state_path = self.root / "state.json"
        try:
            self.state = json.loads(self._state_path.read_text())
        except (OSError, ValueError):
            self.state = {"acked": [], "clock": None}

    def _save(self):
        tmp = self._state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state))
        os.replace(tmp, self._state_path)

    def _files(self):
        return sorted(self.root.glob("*.ses"))

    def add(self, data):
        files = self._files()
        sid = int(files[-1].stem) + 1 if files else 1
        (self.root / ("%06d.ses" % sid)).write_bytes(data)
        return sid

    def sessions(self):
        out = []
        for p in self._files():
            data = p.read_bytes()
            out.append((int(p.stem), len(data), zlib.crc32(data)))
        return out

    def read(self, session_id, offset, n):
        with open(self.root / ("%06d.ses" % session_id), "rb") as f:
            f.seek(offset)
            return f.read(n)

    def ack(self, session_id):
        if session_id not in self.state["acked"]:
            self.state["acked"].append(session_id)
            self._save()

    def status(self):
        files = self._files()
        return {"sessions": len(files), "unacked": len([p for p in files if int(p.stem) not in self.state["acked"]]),
                "bytes": sum(p.stat().st_size for p in files), "clock": self.state["clock"]}

    def set_clock(self, unix_s):
        self.state["clock"] = unix_s
        self._save()


def fill(store, count, size=DEFAULT_SESSION_BYTES, seed=1):
    """Add ``count`` sessions of varied bytes (until the real log module writes them)."""
    rnd = random.Random(seed)
    for _ in range(count):
        store.add(rnd.randbytes(size + rnd.randrange(-400, 400)))
