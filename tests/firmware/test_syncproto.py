"""The sync protocol's device end, driven frame by frame (CPython and MicroPython)."""
import json
import struct

from swcore import syncproto as sp
from swcore.default_plan import DEFAULT_PLAN
from memstore import MemStore, session_bytes

KEY = bytes(range(32))
DEV_ID = "sw-test01"


class Counter:
    def __init__(self):
        self.n = 0

    def __call__(self, n):
        self.n += 1
        return bytes((self.n + i) & 0xFF for i in range(n))


class Harness:
    """A device server plus the host half of the framing, seq and auth."""

    def __init__(self, sizes=(300, 1000, 50), key=KEY, mtu=185, store=None):
        self.store = MemStore(sizes) if store is None else store
        self.plans = []
        self.server = sp.SyncServer(self.store, (DEV_ID, KEY), Counter(), self.plans.append,
                                    {"name": "Sprintwatch", "fw": "test"}, lambda: 87)
        self.server.connect(mtu)
        self.key = key
        self.seq = 0

    def frames(self):
        out = []
        while True:
            f = self.server.next_frame()
            if f is None:
                return out
            assert len(f) <= self.server.room(), "notification larger than the MTU allows"
            out.append(sp.parse_notification(f))

    def raw(self, frame):
        self.server.handle(frame)
        return self.frames()

    def call(self, op, payload=b""):
        """Send one request; return (status, payload, data frames)."""
        self.seq = (self.seq + 1) & 0xFF
        got = self.raw(sp.request(op, self.seq, payload))
        data = [f for f in got if f[0] == "data"]
        resp = [f for f in got if f[0] == "response"]
        assert resp, "no response"
        body = b"".join(r[5] for r in resp)
        for r in resp:
            assert r[1] == op and r[2] == self.seq
        assert [r[4] for r in resp][-1] == 0
        return resp[0][3], body, data

    def login(self):
        hn = bytes(range(100, 116))
        st, body, _ = self.call(sp.OP_AUTH_BEGIN, hn)
        assert st == sp.OK
        dn, proof = body[:16], body[16:]
        assert proof == sp.device_proof(KEY, hn, dn), "device did not prove it holds the key"
        self.skey = sp.session_key(self.key, hn, dn)
        return self.call(sp.OP_AUTH_PROVE, sp.host_proof(self.key, hn, dn))[0]

    def plain(self, sid, data):
        """The session bytes of DATA frames, each chunk decrypted and its CRC checked."""
        out = b""
        for d in data:
            chunk = sp.crypt(self.skey, sid, d[2], d[3])
            assert sp.crc32(chunk) == d[4], "chunk CRC"
            out += chunk
        return out


def test_hmac_matches_rfc4231_vectors():
    assert sp.hmac_sha256(b"Jefe", b"what do ya want for nothing?") == bytes.fromhex(
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    key = bytes([0xAA]) * 131  # longer than a block: hashed first
    assert sp.hmac_sha256(key, b"Test Using Larger Than Block-Size Key - Hash Key First") == bytes.fromhex(
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")


def test_crc32_software_fallback_matches():
    data = session_bytes(3, 700)
    assert sp._crc32_soft(data) == sp.crc32(data)
    assert sp.crc32(b"123456789") == 0xCBF43926


def test_info_is_open_and_names_the_device():
    h = Harness()
    st, body, _ = h.call(sp.OP_INFO)
    assert st == sp.OK
    doc = json.loads(body)
    assert doc["id"] == DEV_ID and doc["provisioned"] and not doc["authenticated"]
    assert doc["name"] == "Sprintwatch"


def test_everything_else_needs_auth():
    h = Harness()
    for op, payload in ((sp.OP_LIST, b""), (sp.OP_READ, struct.pack("<III", 1, 0, 0)),
                        (sp.OP_ACK, struct.pack("<II", 1, 0)), (sp.OP_SET_CLOCK, struct.pack("<I", 1800000000)),
                        (sp.OP_STATUS, b""), (sp.OP_PLAN_BEGIN, struct.pack("<II", 10, 0))):
        st, body, data = h.call(op, payload)
        assert st == sp.E_AUTH_REQUIRED, (op, st)
        assert not data
    assert h.store.acked == set() and h.store.clock is None and h.store.reads == 0


def test_wrong_key_refused_and_locked_after_three_tries():
    h = Harness(key=bytes(32))
    for _ in range(sp.MAX_AUTH_FAILS):
        assert h.login() == sp.E_AUTH_FAILED
    st, _, _ = h.call(sp.OP_AUTH_BEGIN, bytes(16))
    assert st == sp.E_LOCKED
    assert h.call(sp.OP_LIST)[0] == sp.E_AUTH_REQUIRED
    h.server.disconnect()
    h.server.connect(100)
    h.seq = 0
    h.key = KEY
    assert h.login() == sp.OK, "a new connection may try again"


def test_prove_without_begin_and_replayed_proof_refused():
    h = Harness()
    assert h.call(sp.OP_AUTH_PROVE, bytes(32))[0] == sp.E_OUT_OF_ORDER
    hn = bytes(16)
    st, body, _ = h.call(sp.OP_AUTH_BEGIN, hn)
    proof = sp.host_proof(KEY, hn, body[:16])
    assert h.call(sp.OP_AUTH_PROVE, proof)[0] == sp.OK
    h.server.disconnect()
    h.server.connect(100)
    h.seq = 0
    h.call(sp.OP_AUTH_BEGIN, hn)  # fresh device nonce: the old proof is worthless
    assert h.call(sp.OP_AUTH_PROVE, proof)[0] == sp.E_AUTH_FAILED


def test_unprovisioned_device_refuses_auth():
    h = Harness()
    h.server.key = None
    assert h.call(sp.OP_AUTH_BEGIN, bytes(16))[0] == sp.E_NOT_PROVISIONED
    assert json.loads(h.call(sp.OP_INFO)[1])["provisioned"] is False


def test_list_read_ack_roundtrip():
    h = Harness(sizes=[100 + 37 * i for i in range(70)])
    assert h.login() == sp.OK
    entries, after = [], None
    while True:
        st, body, _ = h.call(sp.OP_LIST, b"" if after is None else struct.pack("<I", after))
        assert st == sp.OK
        page, more = sp.list_entries(body)
        entries += page
        if not more:
            break
        after = page[-1][0]
    assert entries == h.store.sessions()
    sid, size, digest = entries[5]
    st, body, data = h.call(sp.OP_READ, struct.pack("<III", sid, 0, 0))
    assert st == sp.OK and struct.unpack("<III", body) == (sid, size, digest)
    assert h.plain(sid, data) == h.store.data[sid]
    assert b"".join(d[3] for d in data) != h.store.data[sid], "session bytes are encrypted on the air"
    assert all(len(d[3]) == h.server.room() - sp.DATA_HEADER for d in data[:-1]), "chunks fill the MTU"
    assert h.call(sp.OP_ACK, struct.pack("<II", sid, digest ^ 1))[0] == sp.E_CRC
    assert sid not in h.store.acked
    assert h.call(sp.OP_ACK, struct.pack("<II", sid, digest))[0] == sp.OK
    assert h.store.acked == {sid}


def test_ack_names_the_session_by_digest_on_the_real_store():
    """Two sessions alike but for their ids have the same whole-file CRC-32; the
    device lists different digests and takes an ack only with the session's own."""
    import os
    from swcore import logformat as fmt
    from swcore.logstore import SessionStore
    root = "/tmp/swsync-test-%s" % "".join("%02x" % b for b in os.urandom(4))
    store = SessionStore(root)
    try:
        for _ in range(2):
            w = store.begin("Descending Sprints", 0xCAFE, "0.1.0")
            w(5000, "sprint_go", {"rep": 1})
            w(17000, "rep", {"rep": 1, "start_ms": 5000, "duration_ms": 12000, "reason": "tap"})
            w.close()
        h = Harness(store=store)
        h.login()
        st, body, _ = h.call(sp.OP_LIST)
        (a, size_a, digest_a), (b, size_b, digest_b) = sp.list_entries(body)[0]
        data_a, data_b = store.read(a, 0, size_a), store.read(b, 0, size_b)
        assert size_a == size_b and fmt.crc32(data_a) == fmt.crc32(data_b), "same CRC-32"
        assert digest_a != digest_b
        assert h.call(sp.OP_ACK, struct.pack("<II", a, digest_b))[0] == sp.E_CRC
        assert h.call(sp.OP_ACK, struct.pack("<II", a, fmt.crc32(data_a)))[0] == sp.E_CRC
        assert [s[0] for s in store.ids() if s[1] == "acknowledged"] == []
        assert h.call(sp.OP_ACK, struct.pack("<II", a, digest_a))[0] == sp.OK
        assert [s[0] for s in store.ids() if s[1] == "acknowledged"] == [a]
    finally:
        for name in os.listdir(root):
            os.remove(root + "/" + name)
        os.rmdir(root)


def test_read_from_offset_and_bounds():
    h = Harness()
    h.login()
    sid, size, _digest = h.store.sessions()[1]
    st, body, data = h.call(sp.OP_READ, struct.pack("<III", sid, 777, 100))
    assert st == sp.OK and [d[2] for d in data][0] == 777
    assert h.plain(sid, data) == h.store.data[sid][777:877]
    assert h.call(sp.OP_READ, struct.pack("<III", sid, size + 1, 0))[0] == sp.E_RANGE
    assert h.call(sp.OP_READ, struct.pack("<III", 99, 0, 0))[0] == sp.E_NOT_FOUND
    st, body, data = h.call(sp.OP_READ, struct.pack("<III", sid, size, 0))
    assert st == sp.OK and not data


def test_each_connection_encrypts_with_its_own_key():
    seen = []
    for _ in range(2):
        h = Harness()
        h.server.random = Counter() if not seen else (lambda n: bytes(range(50, 50 + n)))
        h.login()
        st, body, data = h.call(sp.OP_READ, struct.pack("<III", 2, 0, 64))
        assert h.plain(2, data) == h.store.data[2][:64]
        seen.append((h.skey, data[0][3]))
    assert seen[0][0] != seen[1][0] and seen[0][1] != seen[1][1]
    wrong = sp.crypt(seen[0][0], 2, 0, seen[1][1])
    assert wrong != h.store.data[2][:len(wrong)], "another connection's key does not decrypt"


def test_crypt_is_its_own_inverse_at_any_offset():
    skey = bytes(range(32))
    data = session_bytes(9, 300)
    for off in (0, 1, 31, 32, 33, 1000):
        enc = sp.crypt(skey, 9, off, data)
        assert enc != data and sp.crypt(skey, 9, off, enc) == data
    # a stream split anywhere decrypts the same as in one piece
    whole = sp.crypt(skey, 9, 5, data)
    assert sp.crypt(skey, 9, 5, data[:40]) + sp.crypt(skey, 9, 45, data[40:]) == whole


def test_new_read_replaces_running_stream():
    h = Harness()
    h.login()
    h.seq += 1
    h.server.handle(sp.request(sp.OP_READ, h.seq, struct.pack("<III", 2, 0, 0)))
    first = sp.parse_notification(h.server.next_frame())
    assert first[0] == "data" and first[1] == h.seq
    st, body, data = h.call(sp.OP_READ, struct.pack("<III", 2, 500, 0))
    assert st == sp.OK and data[0][2] == 500 and all(d[1] == h.seq for d in data)


def test_malformed_requests_get_errors_not_crashes():
    h = Harness()
    cases = [b"", b"\x01", b"\x01\x01\x05\x00abc", b"\x01\x01\x00\x00extra",
             b"\x7e\x01\x00\x00", bytes(sp.MAX_REQUEST + 1)]
    for frame in cases:
        got = h.raw(frame)
        assert len(got) == 1 and got[0][0] == "response" and got[0][3] != sp.OK, frame
    h.login()
    for op, payload in ((sp.OP_READ, b"\x01"), (sp.OP_LIST, b"\x01\x02"), (sp.OP_ACK, b""),
                        (sp.OP_SET_CLOCK, struct.pack("<I", 5)), (sp.OP_INFO, b"x")):
        st, body, _ = h.call(op, payload)
        assert st in (sp.E_MALFORMED, sp.E_RANGE), (op, st)
        assert body, "errors carry a message"


def test_truncated_write_is_detected():
    """A port cuts writes longer than the value buffer: the length field catches it."""
    h = Harness()
    h.login()
    frame = sp.request(sp.OP_PLAN_DATA, h.seq + 1, bytes(40))
    got = h.raw(frame[:20])
    assert got[0][3] == sp.E_MALFORMED


def test_out_of_order_sequence_rejected():
    h = Harness()
    h.call(sp.OP_INFO)
    got = h.raw(sp.request(sp.OP_INFO, h.seq + 5))
    assert got[0][3] == sp.E_OUT_OF_ORDER
    got = h.raw(sp.request(sp.OP_INFO, h.seq))  # a replay of the last one
    assert got[0][3] == sp.E_OUT_OF_ORDER
    assert h.call(sp.OP_INFO)[0] == sp.OK


def test_store_failure_is_an_error_reply():
    h = Harness()
    h.login()

    def broken(*a):
        raise OSError(5)
    h.store.sessions = broken
    st, body, _ = h.call(sp.OP_LIST)
    assert st == sp.E_INTERNAL and b"OSError" in body
    h.store.status = broken
    assert h.call(sp.OP_STATUS)[0] == sp.E_STORAGE


def _upload(h, text, chunk=100, crc=None):
    data = text.encode()
    st = h.call(sp.OP_PLAN_BEGIN, struct.pack("<II", len(data), sp.crc32(data) if crc is None else crc))[0]
    if st != sp.OK:
        return st, b""
    for off in range(0, len(data), chunk):
        st = h.call(sp.OP_PLAN_DATA, struct.pack("<I", off) + data[off:off + chunk])[0]
        assert st == sp.OK
    st, body, _ = h.call(sp.OP_PLAN_COMMIT)
    return st, body


def test_plan_upload_validated_on_device():
    h = Harness()
    h.login()
    text = json.dumps(DEFAULT_PLAN)
    st, body = _upload(h, text)
    assert st == sp.OK and body == DEFAULT_PLAN["name"].encode()
    assert h.plans == [text]
    bad = json.dumps({"name": "x", "sets": [{"name": "s", "steps": [{"name": "a", "kind": "timed"}]}]})
    st, body = _upload(h, bad)
    assert st == sp.E_BAD_PLAN and b"duration_s" in body
    st, body = _upload(h, text, crc=1)
    assert st == sp.E_CRC
    assert h.plans == [text], "rejected plans are not installed"
    assert _upload(h, "x" * (sp.MAX_PLAN + 1))[0] == sp.E_TOO_LARGE


def test_plan_chunks_out_of_order_rejected():
    h = Harness()
    h.login()
    assert h.call(sp.OP_PLAN_DATA, struct.pack("<I", 0) + b"{}")[0] == sp.E_OUT_OF_ORDER
    assert h.call(sp.OP_PLAN_COMMIT)[0] == sp.E_OUT_OF_ORDER
    h.call(sp.OP_PLAN_BEGIN, struct.pack("<II", 10, 0))
    assert h.call(sp.OP_PLAN_DATA, struct.pack("<I", 4) + b"abcd")[0] == sp.E_OUT_OF_ORDER
    assert h.call(sp.OP_PLAN_DATA, struct.pack("<I", 0) + bytes(11))[0] == sp.E_TOO_LARGE


def test_clock_and_status():
    h = Harness()
    h.login()
    assert h.call(sp.OP_SET_CLOCK, struct.pack("<I", 1790000000))[0] == sp.OK
    assert h.store.clock == 1790000000
    st, body, _ = h.call(sp.OP_STATUS)
    doc = json.loads(body)
    assert doc["clock_set"] and doc["battery_pct"] == 87 and doc["storage"]["sessions"] == 3


def test_long_response_fragments_at_minimum_mtu():
    h = Harness(mtu=23)
    st, body, _ = h.call(sp.OP_INFO)
    assert st == sp.OK and json.loads(body)["id"] == DEV_ID


def test_key_file_roundtrip_and_errors():
    text = sp.format_key_file(DEV_ID, KEY)
    assert sp.parse_key_file(text) == (DEV_ID, KEY)
    for bad in ("nope", "[]", '{"id": "a"}', '{"id": "a", "key": "zz"}',
                json.dumps({"id": "a", "key": "g" * 64})):
        e = None
        try:
            sp.parse_key_file(bad)
        except ValueError as err:
            e = err
        assert e is not None and "key file" in str(e), bad
