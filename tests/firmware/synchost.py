"""The host half of the sync protocol for frame-level tests and the fuzzer (runs on
CPython and the MicroPython port): frames, the handshake and sealing from
``swcore.syncproto``, the device's TX stream drained from ``SyncServer.next_piece``."""
import struct

from swcore import syncproto as sp

KEY = bytes(range(32))
DEV_ID = "sw-test01"


class Counter:
    """Deterministic nonces: each call gives different bytes."""

    def __init__(self, start=0):
        self.n = start

    def __call__(self, n):
        self.n += 1
        return bytes((self.n * 7 + i) & 0xFF for i in range(n))


class Host:
    """Talks to ``server`` directly. ``strict``: device frames must carry counters
    1, 2, 3 ... and valid tags (what a host requires)."""

    def __init__(self, server, key=KEY, device_id=DEV_ID):
        self.server = server
        self.key = key
        self.device_id = device_id
        self.reader = sp.FrameReader()
        self.channel = None
        self.dev_ctr = 0
        self.air = []            # every notification, as a sniffer sees them
        self.sent = []           # every request frame, as a sniffer sees them

    def pieces(self):
        out = []
        while True:
            p = self.server.next_piece()
            if p is None:
                return out
            assert len(p) <= self.server.room(), "notification larger than the MTU allows"
            out.append(p)

    def frames(self):
        """Every device frame now waiting, as ``(kind, status, req, payload)``."""
        got = []
        for p in self.pieces():
            self.air.append(p)
            self.reader.feed(p)
        while True:
            f = self.reader.next()
            if f is None:
                return got
            if self.channel is None:
                kind, status, ctr, body = sp.parse_plain(f)
                assert ctr == 0
            else:
                kind, status, ctr, body = self.channel.open(f)
                assert ctr == self.dev_ctr + 1, "device counters go up by one"
                self.dev_ctr = ctr
            got.append((kind, status, struct.unpack_from("<I", body, 0)[0], bytes(body[4:])))

    def seal(self, op, payload=b""):
        if self.channel is None:
            return sp.request(op, payload), 0
        return self.channel.seal(op, 0, payload), self.channel.out_ctr

    def send(self, frame):
        self.sent.append(bytes(frame))
        self.server.handle(frame)
        return self.frames()

    def call(self, op, payload=b""):
        """One request: ``(status, payload, data frames)`` of its answer."""
        frame, ctr = self.seal(op, payload)
        got = self.send(frame)
        resp = [g for g in got if g[0] == op | sp.RESPONSE and g[2] == ctr]
        assert len(resp) == 1, "exactly one response: %r" % (got,)
        data = [g for g in got if g[0] == sp.DATA and g[2] == ctr]
        return resp[0][1], resp[0][3], data

    def login(self, hn=bytes(range(100, 116))):
        st, body, _ = self.call(sp.OP_AUTH_BEGIN, hn)
        if st != sp.OK:
            return st
        dn, suite, proof = body[:16], body[16], body[17:]
        assert proof == sp.device_proof(KEY, hn, dn, suite, self.device_id), "device did not prove it holds the key"
        st = self.call(sp.OP_AUTH_PROVE, sp.host_proof(self.key, hn, dn, suite))[0]
        if st == sp.OK:
            self.keys = sp.Keys(self.key, hn, dn, suite)
            self.channel = sp.Channel(self.keys, sp.DIR_HOST)
        return st

    def ack_payload(self, sid, data, size=None):
        size = len(data) if size is None else size
        return struct.pack("<I", sid) + sp.ack_proof(self.channel.ack_key, sid, size, [data])

    @staticmethod
    def chunks(data_frames):
        """``[(offset, bytes)]`` of DATA frames."""
        return [(struct.unpack_from("<I", d[3], 0)[0], d[3][4:]) for d in data_frames]
