"""The sync protocol's device end, driven frame by frame (CPython and MicroPython)."""
import json
import struct

from swcore import syncproto as sp
from swcore import synccrypto as sc
from swcore.default_plan import DEFAULT_PLAN
from memstore import MemStore, session_bytes
from synchost import DEV_ID, KEY, Counter, Host


class Clock:
    def __init__(self):
        self.t = 1000

    def __call__(self):
        return self.t


def make(sizes=(300, 1000, 50), key=KEY, mtu=185, store=None, **kw):
    store = MemStore(sizes) if store is None else store
    plans = []
    clock = Clock()
    server = sp.SyncServer(store, (DEV_ID, KEY), Counter(), plans.append,
                           {"name": "Sprintwatch", "fw": "test"}, lambda: 87, clock=clock, **kw)
    server.connect(mtu)
    h = Host(server, key)
    h.store, h.plans, h.clock = store, plans, clock
    return h


def reconnect(h, peer=None):
    h.server.disconnect()
    ok = h.server.connect(185, peer)
    fresh = Host(h.server, h.key)
    fresh.store, fresh.plans, fresh.clock = h.store, h.plans, h.clock
    return fresh, ok


def read_all(h, sid, off=0, n=0):
    st, body, data = h.call(sp.OP_READ, struct.pack("<III", sid, off, n))
    return st, body, b"".join(c for _o, c in Host.chunks(data)), data


# ---------------------------------------------------------------- primitives

def test_hmac_matches_rfc4231_vectors_in_both_implementations():
    for mac in (sc.hmac_sha256, sc.hmac_rfc2104):
        assert mac(b"Jefe", b"what do ya want for nothing?") == bytes.fromhex(
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        key = bytes([0xAA]) * 131  # longer than a block: hashed first
        assert mac(key, b"Test Using Larger Than Block-Size Key - Hash Key First") == bytes.fromhex(
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")


def test_incremental_hmac_equals_one_shot():
    h = sc.HMAC(b"k" * 40, b"abc")
    for part in (b"", b"d" * 100, b"e"):
        h.update(part)
    assert h.digest() == sc.hmac_rfc2104(b"k" * 40, b"abc" + b"d" * 100 + b"e")


def test_hkdf_matches_rfc5869_case_1():
    okm = sc.hkdf(bytes([0x0B]) * 22, bytes(range(13)), bytes(range(0xF0, 0xFA)), 42)
    assert okm == bytes.fromhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                                "34007208d5b887185865")


def test_aes_ctr_matches_sp800_38a_f51():
    if sc.AES_BACKEND is None:
        return  # a port without AES: the suite is hmac only (checked below)
    key = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    icb = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
    plain = bytes.fromhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
                          "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
    want = bytes.fromhex("874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
                         "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee")
    assert sc.CTR(key).xor(icb, plain) == want
    assert sc.CTR(key).xor(icb, want[:37]) == plain[:37], "any length, same call decrypts"
    # the counter carries past 64 and 32 bits like a 128-bit integer
    top = sc.CTR(key).xor(bytes(8) + b"\xff" * 8, bytes(32))
    assert top[16:] == sc.CTR(key).xor(bytes(7) + b"\x01" + bytes(8), bytes(16))


def test_local_suite_follows_the_runtime():
    assert sp.LOCAL_SUITE == (sp.SUITE_AES_CTR_HMAC if sc.AES_BACKEND else sp.SUITE_MAC_ONLY)


def test_crc32_software_fallback_matches():
    data = session_bytes(3, 700)
    assert sp._crc32_soft(data) == sp.crc32(data)
    assert sp.crc32(b"123456789") == 0xCBF43926


# ---------------------------------------------------------------- handshake

def test_info_is_open_and_names_the_device_and_version():
    h = make()
    st, body, _ = h.call(sp.OP_INFO)
    assert st == sp.OK
    doc = json.loads(body)
    assert doc["id"] == DEV_ID and doc["provisioned"] and not doc["authenticated"]
    assert doc["proto"] == 2 and doc["name"] == "Sprintwatch" and doc["suite"] == sp.LOCAL_SUITE


def test_everything_else_needs_auth():
    h = make()
    for op, payload in ((sp.OP_LIST, b""), (sp.OP_READ, struct.pack("<III", 1, 0, 0)),
                        (sp.OP_ACK, bytes(36)), (sp.OP_SET_CLOCK, struct.pack("<I", 1800000000)),
                        (sp.OP_STATUS, b""), (sp.OP_PLAN_BEGIN, struct.pack("<II", 10, 0))):
        st, body, data = h.call(op, payload)
        assert st == sp.E_AUTH_REQUIRED, (op, st)
        assert not data
    assert h.store.acked == set() and h.store.clock is None and h.store.reads == 0


def test_wrong_key_refused_then_backoff_then_dropped():
    h = make(key=bytes(32))
    assert h.login() == sp.E_AUTH_FAILED
    assert h.call(sp.OP_AUTH_BEGIN, bytes(16))[0] == sp.E_LOCKED, "rate-limited at once"
    h.clock.t += 1000
    assert h.login() == sp.E_AUTH_FAILED
    h.clock.t += 1999
    assert h.call(sp.OP_AUTH_BEGIN, bytes(16))[0] == sp.E_LOCKED, "the wait doubles"
    h.clock.t += 1
    assert h.login() == sp.E_AUTH_FAILED
    assert h.server.poll() is not None, "three failures: the device drops the link"
    assert h.server.counts["auth-failed"] == 3
    assert h.call(sp.OP_LIST)[0] == sp.E_AUTH_REQUIRED
    # the same peer is refused for a while; the owner (another address) is not
    h2, ok = reconnect(h, peer=None)
    h.clock.t += 4000
    h2.key = KEY
    assert h2.login() == sp.OK, "the owner gets in once the back-off has passed"


def test_backoff_is_capped_so_the_owner_always_gets_in():
    h = make(key=bytes(32))
    for _ in range(12):
        h.clock.t += sp.BACKOFF_MAX_MS
        assert h.login() == sp.E_AUTH_FAILED
        h, _ok = reconnect(h)
    h.key = KEY
    h.clock.t += sp.BACKOFF_MAX_MS
    assert h.login() == sp.OK


def test_prove_without_begin_and_replayed_proof_refused():
    h = make()
    assert h.call(sp.OP_AUTH_PROVE, bytes(32))[0] == sp.E_OUT_OF_ORDER
    hn = bytes(16)
    st, body, _ = h.call(sp.OP_AUTH_BEGIN, hn)
    proof = sp.host_proof(KEY, hn, body[:16], body[16])
    assert h.call(sp.OP_AUTH_PROVE, proof)[0] == sp.OK
    h, _ok = reconnect(h)
    h.call(sp.OP_AUTH_BEGIN, hn)  # fresh device nonce: the old proof is worthless
    assert h.call(sp.OP_AUTH_PROVE, proof)[0] == sp.E_AUTH_FAILED


def test_reauthentication_on_the_same_link_is_refused():
    h = make()
    assert h.login() == sp.OK
    assert h.call(sp.OP_AUTH_BEGIN, bytes(16))[0] == sp.E_OUT_OF_ORDER
    assert h.call(sp.OP_LIST)[0] == sp.OK, "the link stays authenticated"


def test_unprovisioned_device_refuses_auth():
    h = make()
    h.server.key = None
    assert h.call(sp.OP_AUTH_BEGIN, bytes(16))[0] == sp.E_NOT_PROVISIONED
    assert json.loads(h.call(sp.OP_INFO)[1])["provisioned"] is False


# ---------------------------------------------------------------- sessions

def test_list_read_ack_roundtrip():
    h = make(sizes=[100 + 37 * i for i in range(70)])
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
    sid, size, digest = entries[40]
    st, body, plain, data = read_all(h, sid)
    assert st == sp.OK and struct.unpack("<III", body) == (sid, size, digest)
    assert plain == h.store.data[sid]
    assert len(data) == (size + sp.CHUNK - 1) // sp.CHUNK
    assert h.call(sp.OP_ACK, h.ack_payload(sid, plain[:-1] + b"x"))[0] == sp.E_BAD_PROOF
    assert sid not in h.store.acked
    assert h.call(sp.OP_ACK, h.ack_payload(sid, plain))[0] == sp.OK
    assert h.store.acked == {sid}
    assert h.call(sp.OP_ACK, h.ack_payload(sid, plain))[0] == sp.OK, "acknowledging again is harmless"


def test_ack_without_the_bytes_is_refused():
    """What version 1 took: the listed digest, or a proof over part of the session."""
    h = make(sizes=(2406,))
    h.login()
    sid, size, digest = h.store.sessions()[0]
    st, _body, part, _data = read_all(h, sid, 0, 40)
    assert st == sp.OK and len(part) == 40
    for payload in (struct.pack("<II", sid, digest) + bytes(28),       # the digest LIST shows
                    h.ack_payload(sid, part),                          # 40 of 2406 bytes
                    h.ack_payload(sid, part, size=size),               # claims the size
                    struct.pack("<I", sid) + bytes(32)):
        assert h.call(sp.OP_ACK, payload)[0] == sp.E_BAD_PROOF
    assert h.store.acked == set() and h.server.counts["bad-proof"] == 4


def test_ack_names_the_session_by_its_bytes_on_the_real_store():
    """Two sessions alike but for their ids have the same whole-file CRC-32; only the
    proof over a session's own bytes acknowledges it."""
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
        h = make(store=store)
        h.login()
        st, body, _ = h.call(sp.OP_LIST)
        (a, size_a, _da), (b, size_b, _db) = sp.list_entries(body)[0]
        data_a, data_b = store.read(a, 0, size_a), store.read(b, 0, size_b)
        assert size_a == size_b and fmt.crc32(data_a) == fmt.crc32(data_b), "same CRC-32"
        assert h.call(sp.OP_ACK, h.ack_payload(a, data_b))[0] == sp.E_BAD_PROOF
        assert [s[0] for s in store.ids() if s[1] == "acknowledged"] == []
        assert h.call(sp.OP_ACK, h.ack_payload(a, data_a))[0] == sp.OK
        assert [s[0] for s in store.ids() if s[1] == "acknowledged"] == [a]
        assert [e[0] for e in sp.list_entries(h.call(sp.OP_LIST)[1])[0]] == [a, b], \
            "acknowledged sessions stay listed until deleted for room"
    finally:
        for name in os.listdir(root):
            os.remove(root + "/" + name)
        os.rmdir(root)


def test_read_from_offset_and_bounds():
    h = make()
    h.login()
    sid, size, _digest = h.store.sessions()[1]
    st, body, plain, data = read_all(h, sid, 777, 100)
    assert st == sp.OK and Host.chunks(data)[0][0] == 777
    assert plain == h.store.data[sid][777:877]
    st, body, plain, _ = read_all(h, sid, 900, 5000)
    assert st == sp.OK and plain == h.store.data[sid][900:], "a length past the end stops at the end"
    assert struct.unpack("<III", body)[1] == size
    assert h.call(sp.OP_READ, struct.pack("<III", sid, size + 1, 0))[0] == sp.E_RANGE
    assert h.call(sp.OP_READ, struct.pack("<III", 99, 0, 0))[0] == sp.E_NOT_FOUND
    st, body, plain, data = read_all(h, sid, size, 0)
    assert st == sp.OK and not data and struct.unpack("<III", body)[1] == size, "offset = size: nothing to send"


def test_new_read_replaces_running_stream_and_the_old_one_is_told():
    h = make()
    h.login()
    frame, first = h.seal(sp.OP_READ, struct.pack("<III", 2, 0, 0))
    h.server.handle(frame)
    h.reader.feed(h.server.next_piece())      # one notification of the first READ left
    frame, second = h.seal(sp.OP_READ, struct.pack("<III", 2, 500, 0))
    got = h.send(frame)
    answers = [(g[2], g[1]) for g in got if g[0] == sp.OP_READ | sp.RESPONSE]
    assert answers == [(first, sp.E_REPLACED), (second, sp.OK)], "each READ answered once"
    data = [g for g in got if g[0] == sp.DATA and g[2] == second]
    assert Host.chunks(data)[0][0] == 500
    assert b"".join(c for _o, c in Host.chunks(data)) == h.store.data[2][500:]
    assert h.server.stream is None


def test_each_connection_has_its_own_keys():
    seen = []
    for start in (0, 50):
        h = make()
        h.server.random = Counter(start)
        h.login()
        st, _b, plain, _d = read_all(h, 2, 0, 64)
        assert plain == h.store.data[2][:64]
        seen.append((h.channel.out_mac, h.air[-1]))
    assert seen[0][0] != seen[1][0] and seen[0][1] != seen[1][1]


def test_nothing_on_the_air_shows_session_bytes_or_the_list():
    h = make(sizes=(3000, 2000))
    h.login()
    _st, listing, _ = h.call(sp.OP_LIST)
    read_all(h, 1)
    read_all(h, 2)
    air = b"".join(h.air)
    if h.server.suite == sp.SUITE_MAC_ONLY:
        return
    for data in h.store.data.values():
        for i in range(0, len(data) - 8, 8):
            assert data[i:i + 8] not in air
    assert listing[2:14] not in air, "LIST (ids, sizes, digests) is encrypted too"


# ---------------------------------------------------------------- hostile frames

def test_forged_replayed_reordered_and_truncated_requests_refused_and_logged():
    h = make()
    h.login()
    good, c1 = h.seal(sp.OP_SET_CLOCK, struct.pack("<I", 1790000000))
    later, c2 = h.seal(sp.OP_SET_CLOCK, struct.pack("<I", 1790000100))
    forged = bytearray(good)
    forged[sp.HEADER] ^= 1                       # one ciphertext bit
    answers = [h.send(bytes(forged)), h.send(good[:-1]), h.send(later), h.send(good), h.send(later)]
    statuses = [a[0][1] for a in answers]
    assert statuses == [sp.E_BAD_TAG, sp.E_MALFORMED, sp.OK, sp.E_REPLAY, sp.E_REPLAY], statuses
    assert h.store.clock == 1790000100, "only the genuine, in-order request changed anything"
    assert h.server.counts["bad-tag"] == 1 and h.server.counts["replay"] == 2
    # a frame sealed with the wrong direction's key (a reflected device frame)
    reflected = sp.Channel(h.keys, sp.DIR_DEVICE).seal(sp.OP_SET_CLOCK, 0, struct.pack("<I", 1600000000))
    assert h.send(reflected)[0][1] == sp.E_BAD_TAG
    # an unsealed request after the handshake
    assert h.send(sp.request(sp.OP_LIST))[0][1] in (sp.E_BAD_TAG, sp.E_MALFORMED)
    assert h.store.clock == 1790000100
    st, body, _ = h.call(sp.OP_STATUS)
    assert json.loads(body)["security"]["bad-tag"] >= 2


def test_a_request_lost_in_between_does_not_block_later_ones():
    """Counters must go up, not by one: a request dropped by a full buffer costs
    only itself (CircuitPython's ring drops the oldest packets)."""
    h = make()
    h.login()
    h.seal(sp.OP_STATUS)                         # sealed, never delivered
    assert h.call(sp.OP_LIST)[0] == sp.OK


def test_version_1_host_gets_update_message_in_its_own_framing():
    h = make()
    h.server.handle(b"\x01\x01\x00\x00")        # v1 INFO, seq 1
    h.server.handle(b"\x02\x02\x10\x00" + bytes(16))
    p = h.pieces()
    stream = b"".join(p)
    first = stream[:4]
    assert first == bytes((0x81, 1, sp.E_VERSION, 0))
    assert b"update sprintwatch on this computer" in stream
    assert stream.count(b"\x82\x02" + bytes((sp.E_VERSION, 0))) == 1


def test_malformed_requests_get_errors_not_crashes():
    h = make()
    cases = [b"", b"\x01", b"\x01\x00\x05\x00\x00\x00\x00\x00abc", b"\x01\x00\x00\x00\x00\x00\x00\x00extra",
             b"\x7e\x00\x00\x00\x00\x00\x00\x00", bytes(sp.MAX_REQUEST + 1)]
    for frame in cases:
        got = h.send(frame)
        assert len(got) == 1 and got[0][0] & sp.RESPONSE and got[0][1] != sp.OK, frame
        assert got[0][3], "errors carry a message"
    h.login()
    for op, payload in ((sp.OP_READ, b"\x01"), (sp.OP_LIST, b"\x01\x02"), (sp.OP_ACK, b""),
                        (sp.OP_SET_CLOCK, struct.pack("<I", 5)), (sp.OP_INFO, b"x")):
        st, body, _ = h.call(op, payload)
        assert st in (sp.E_MALFORMED, sp.E_RANGE), (op, st)
        assert body, "errors carry a message"


def test_truncated_write_is_detected():
    """A port cuts writes longer than the value buffer: the length field catches it."""
    h = make()
    h.login()
    frame, _ = h.seal(sp.OP_PLAN_DATA, bytes(40))
    assert h.send(frame[:20])[0][1] == sp.E_MALFORMED


def test_unanswered_requests_do_not_grow_the_heap():
    """2000 INFO requests from a peer that never reads the replies."""
    import gc
    h = make()
    gc.collect()
    before = gc.mem_free() if hasattr(gc, "mem_free") else None
    for _ in range(2000):
        h.server.handle(sp.request(sp.OP_INFO))
    gc.collect()
    assert h.server.out_bytes <= sp.MAX_OUTBOX + 400
    assert len(h.server.outbox) <= 12 and h.server.dropped > 1900
    if before is not None:
        assert before - gc.mem_free() < 8000, "heap grew by %d" % (before - gc.mem_free())
    got = h.frames()
    assert got[-1][1] == sp.E_BUSY and b"dropped" in got[-1][3]
    assert h.call(sp.OP_INFO)[0] == sp.OK, "served again once the replies are read"


def test_plan_upload_queue_is_bounded_too():
    h = make()
    h.login()
    assert h.call(sp.OP_PLAN_BEGIN, struct.pack("<II", sp.MAX_PLAN + 1, 0))[0] == sp.E_TOO_LARGE
    h.call(sp.OP_PLAN_BEGIN, struct.pack("<II", 100, 0))
    assert h.call(sp.OP_PLAN_DATA, struct.pack("<I", 0) + bytes(101))[0] == sp.E_TOO_LARGE
    assert h.server.plan is None


# ---------------------------------------------------------------- connection hygiene

def test_unauthenticated_connection_dropped_after_a_few_seconds_and_its_peer_kept_out():
    h = make()
    h.server.disconnect()
    assert h.server.connect(185, peer=b"squat1")
    h.clock.t += sp.UNAUTH_TIMEOUT_MS - 1
    assert h.server.poll() is None
    h.call(sp.OP_INFO)                            # talking is not authenticating
    h.clock.t += 1
    assert "not authenticated" in h.server.poll(), "the timer runs from the connection"
    h.server.disconnect()
    assert h.server.connect(185, peer=b"squat1") is False, "the squatter is turned away"
    h.server.disconnect()
    assert h.server.connect(185, peer=b"owner") is True
    clock = h.clock
    h = Host(h.server)
    assert h.login() == sp.OK
    h.clock = clock
    h.clock.t += sp.UNAUTH_TIMEOUT_MS * 3
    assert h.server.poll() is None, "an authenticated link is not dropped for that"
    h.clock.t += sp.IDLE_TIMEOUT_MS
    assert "idle" in h.server.poll()
    h.server.disconnect()
    h.clock.t += sp.PENALTY_MS
    assert h.server.connect(185, peer=b"squat1") is True, "the penalty ends"


# ---------------------------------------------------------------- clock, status, plans

def test_clock_bounds_and_status():
    h = make()
    h.login()
    for t, st in ((sp.CLOCK_MIN - 1, sp.E_RANGE), (4294967295, sp.E_RANGE),   # 2106
                  (sp.CLOCK_MAX + 1, sp.E_RANGE), (sp.CLOCK_MAX, sp.OK), (1790000000, sp.OK)):
        assert h.call(sp.OP_SET_CLOCK, struct.pack("<I", t))[0] == st, t
    assert h.store.clock == 1790000000
    st, body, _ = h.call(sp.OP_STATUS)
    doc = json.loads(body)
    assert doc["clock_set"] and doc["battery_pct"] == 87 and doc["storage"]["sessions"] == 3


def test_store_failure_is_an_error_reply():
    h = make()
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
    h = make()
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


def test_plan_chunks_out_of_order_rejected_and_a_resent_piece_accepted():
    h = make()
    h.login()
    assert h.call(sp.OP_PLAN_DATA, struct.pack("<I", 0) + b"{}")[0] == sp.E_OUT_OF_ORDER
    assert h.call(sp.OP_PLAN_COMMIT)[0] == sp.E_OUT_OF_ORDER
    h.call(sp.OP_PLAN_BEGIN, struct.pack("<II", 10, 0))
    assert h.call(sp.OP_PLAN_DATA, struct.pack("<I", 4) + b"abcd")[0] == sp.E_OUT_OF_ORDER
    assert h.call(sp.OP_PLAN_DATA, struct.pack("<I", 0) + b"abcd")[0] == sp.OK
    assert h.call(sp.OP_PLAN_DATA, struct.pack("<I", 0) + b"abcd")[0] == sp.OK, "a resend after a lost reply"
    assert h.call(sp.OP_PLAN_DATA, struct.pack("<I", 0) + b"abcx")[0] == sp.E_OUT_OF_ORDER
    assert h.call(sp.OP_PLAN_DATA, struct.pack("<I", 4) + bytes(7))[0] == sp.E_TOO_LARGE


def test_frames_span_notifications_at_minimum_mtu():
    h = make(mtu=23)
    st, body, _ = h.call(sp.OP_INFO)
    assert st == sp.OK and json.loads(body)["id"] == DEV_ID
    assert all(len(p) == 20 for p in h.air[:-1]), "every notification but the last is full"


def test_key_file_roundtrip_and_errors():
    text = sp.format_key_file(DEV_ID, KEY)
    assert sp.parse_key_file(text) == (DEV_ID, KEY)
    for bad in ("nope", "[]", '{"id": "a"}', '{"id": "a", "key": "zz"}',
                json.dumps({"id": "a", "key": "g" * 64}), json.dumps({"id": "\u00e9", "key": "0" * 64})):
        e = None
        try:
            sp.parse_key_file(bad)
        except ValueError as err:
            e = err
        assert e is not None and "key file" in str(e), bad


def test_a_relay_that_passed_a_real_login_through_can_change_nothing():
    """Version 1's flaw: a fake device relayed the laptop's login and then, keyless,
    acknowledged sessions, set the clock and installed a plan on the real one."""
    h = make(sizes=(500, 600))
    assert h.login() == sp.OK                    # the laptop's handshake, relayed
    st, _b, plain, _d = read_all(h, 1)           # the laptop's own traffic, seen by the relay
    captured = list(h.sent)
    attempts = [sp.request(sp.OP_SET_CLOCK, struct.pack("<I", 1577836800)),
                sp.request(sp.OP_ACK, struct.pack("<I", 1) + bytes(32)),
                sp.request(sp.OP_PLAN_BEGIN, struct.pack("<II", 10, 0))]
    for f in captured[-2:]:                      # the laptop's sealed frames, replayed or edited
        attempts.append(f)
        edited = bytearray(f)
        edited[0] = sp.OP_SET_CLOCK              # same body, another opcode
        attempts.append(bytes(edited))
        edited = bytearray(f)
        edited[4] ^= 0x40                        # a fresh-looking counter
        attempts.append(bytes(edited))
    statuses = [h.send(a)[0][1] for a in attempts]
    assert all(s in (sp.E_BAD_TAG, sp.E_REPLAY, sp.E_MALFORMED) for s in statuses), statuses
    assert h.store.acked == set() and h.store.clock is None and h.plans == []
    assert h.call(sp.OP_ACK, h.ack_payload(1, plain))[0] == sp.OK, "the laptop itself carries on"
