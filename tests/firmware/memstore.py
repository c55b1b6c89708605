"""An in-memory session store with the log store's API, for protocol tests.

Same calls as ``swcore.logstore``: ``sessions()`` -> [(id, size, digest)] oldest first,
``read(id, offset, n)``, ``ack(id)``, ``status()``, ``set_clock(unix_s)``.
"""
from swcore.logformat import encode_header, session_digest


def session_bytes(sid, size):
    """Deterministic, varied content for session ``sid``: a real session header (the
    host acknowledges only sessions its reader can decode), then varied bytes, ``size``
    in all (bytes alone when ``size`` is shorter than a header)."""
    head = encode_header(sid, 1, "MemStore", 0, "0.1.0")
    if size < len(head):
        head = b""
    out = bytearray(size - len(head))
    x = (sid * 2654435761 + 12345) & 0xFFFFFFFF
    for i in range(len(out)):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = (x >> 16) & 0xFF
    return head + bytes(out)


class MemStore:
    def __init__(self, sizes=()):
        self.data = {}
        self.acked = set()
        self.clock = None
        self.reads = 0
        for i, size in enumerate(sizes):
            self.add(i + 1, session_bytes(i + 1, size))

    def add(self, sid, data):
        self.data[sid] = bytes(data)

    def sessions(self):
        return [(sid, len(self.data[sid]), session_digest(self.data[sid])) for sid in sorted(self.data)]

    def read(self, sid, offset, n):
        self.reads += 1
        return self.data[sid][offset:offset + n]

    def ack(self, sid):
        if sid not in self.data:
            raise KeyError(sid)
        self.acked.add(sid)

    def status(self):
        return {"sessions": len(self.data), "unacked": len(self.data) - len(self.acked)}

    def set_clock(self, unix_s):
        self.clock = unix_s
