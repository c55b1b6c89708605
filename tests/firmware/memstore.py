"""An in-memory session store with the log store's API, for protocol tests.

Same calls as ``swcore.logstore``: ``sessions()`` -> [(id, size, digest)] oldest first,
``read(id, offset, n)``, ``ack(id)``, ``status()``, ``set_clock(unix_s)``.
"""
from swcore.logformat import encode_header, session_digest


def session_bytes(sid, size, variant=0):
    """A real session file (the shared reader decodes it) of at least ``size`` bytes,
    its content varied by ``sid`` and ``variant``: a header, then sprint ticks."""
    from swcore import logformat as fmt
    out = bytearray(fmt.encode_header(sid, 1 + variant, "Sprints %d" % sid, (sid * 7919) & 0xFFFF, "0.1.0"))
    x = (sid * 2654435761 + 12345 + variant * 97) & 0x7FFFFFFF
    t = 0
    while len(out) < size:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        t += 1000 + (x >> 20) % 500
        out += fmt.encode_record(t, "sprint_tick", {"cadence_spm": (x >> 8) % 250, "steps": x % 997})
    return bytes(out)


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
