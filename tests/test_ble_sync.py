"""Sync over a real Bluetooth stack: the firmware's BLE code on one Bumble controller, the
host sync client on another, one virtual link (no radio needed)."""
import asyncio
import json
import struct
import sys
from pathlib import Path

import pytest

from host_tools import device_keys, sync
from host_tools.sessiondb import SessionDB
from host_tools.simdevice import SimDevice
from host_tools.syncclient import AuthError, DeviceError, SyncClient
from host_tools.transport_bumble import BumbleTransport
from swcore import syncproto as sp
from swcore.default_plan import DEFAULT_PLAN

sys.path.insert(0, str(Path(__file__).parent / "firmware"))
from memstore import MemStore, session_bytes  # noqa: E402

CLOCK = 1790000000


def sizes(n, base=2500):
    return [base + 97 * (i % 13) for i in range(n)]


class Rig:
    def __init__(self, tmp_path, n=6, provision=True, size_base=2500):
        self.db = SessionDB(tmp_path / "sessions.db")
        self.store = MemStore(sizes(n, size_base))
        self.key = (device_keys.provision(self.db, "sw-rig")[:2] if provision else ("sw-rig", bytes(32)))
        self.plans = []
        self.log = []

    async def start(self):
        self.dev = await SimDevice(self.store, self.key, install_plan=self.plans.append).start()
        self.transport = BumbleTransport(self.dev.link)
        return self

    async def sync(self):
        return await sync.sync(self.transport, self.db, clock=lambda: CLOCK, log=self.log.append)

    def stored_equals_device(self):
        for sid, _size, _digest in self.store.sessions():
            assert self.db.data("sw-rig", sid) == self.store.data[sid], "session %d differs" % sid


def run(coro):
    return asyncio.run(coro)


def test_full_sync_of_many_sessions_then_nothing_new(tmp_path):
    async def go():
        rig = await Rig(tmp_path, n=40).start()
        r = await rig.sync()
        assert [s for s, _ in r.synced] == list(range(1, 41))
        rig.stored_equals_device()
        assert rig.store.acked == set(range(1, 41))
        assert r.data_bytes == sum(len(d) for d in rig.store.data.values()), "each byte once"
        assert rig.store.clock == CLOCK and r.clock_set == CLOCK
        assert rig.transport.mtu == 517, "largest MTU negotiated"
        assert rig.dev.ble.largest_notify == 517 - 3, "notifications fill the MTU"
        again = await rig.sync()
        assert again.synced == [] and again.data_bytes == 0
        rig.store.add(41, session_bytes(41, 3300))
        third = await rig.sync()
        assert third.synced == [(41, len(rig.store.data[41]))]
        rows = rig.db.sessions("sw-rig")
        assert len(rows) == 41 and all(r[6] for r in rows)
    run(go())


@pytest.mark.parametrize("drops", [(1,), (3,), (7,), (12, 13), (20, 33, 34, 55), tuple(range(4, 64, 6))])
def test_dropped_link_resumes_without_duplicate_or_loss(tmp_path, drops):
    async def go():
        rig = await Rig(tmp_path, n=8).start()
        rig.dev.ble.faults.drop_at = set(drops)
        r = await rig.sync()
        assert rig.dev.ble.faults.dropped == len(drops)
        assert r.reconnects >= 1
        rig.stored_equals_device()
        assert rig.store.acked == set(range(1, 9))
        assert r.data_bytes == sum(len(d) for d in rig.store.data.values()), \
            "a byte was downloaded twice or lost"
        assert sorted(s for s, _ in r.synced) == list(range(1, 9))
    run(go())


def test_interrupted_sync_resumes_next_run_from_saved_offset(tmp_path):
    async def go():
        rig = await Rig(tmp_path, n=3, size_base=6000).start()
        rig.dev.ble.faults.drop_at = set(range(7, 60))   # the link keeps failing: sync gives up
        with pytest.raises(sync.SyncFailed, match="partial data kept"):
            await rig.sync()
        assert rig.store.acked == set()
        kept = rig.db.partial("sw-rig", 1, *rig.store.sessions()[0][1:])
        assert 0 < len(kept) < len(rig.store.data[1]) and kept == rig.store.data[1][:len(kept)]
        rig.dev.ble.faults.drop_at = set()
        r = await rig.sync()
        rig.stored_equals_device()
        assert r.resumed_from == {1: len(kept)}
        total = sum(len(d) for d in rig.store.data.values())
        assert r.data_bytes == total - len(kept), "bytes kept from the first run were downloaded again"
    run(go())


@pytest.mark.parametrize("corrupt", [(6,), (9, 30), (15, 16, 17)])
def test_corrupted_frame_refused_and_the_download_resumes(tmp_path, corrupt):
    """A notification changed on the air fails its frame's tag: the host refuses it,
    drops that connection (its keys are no longer trusted) and resumes on a new one."""
    async def go():
        rig = await Rig(tmp_path, n=5).start()
        rig.dev.ble.faults.corrupt_at = set(corrupt)
        r = await rig.sync()
        assert rig.dev.ble.faults.corrupted == len(corrupt)
        assert r.tampered >= 1 and r.reconnects >= r.tampered
        assert any("refused a frame from the device: bad tag" in m for m in rig.log)
        rig.stored_equals_device()
        assert rig.store.acked == set(range(1, 6))
        assert r.data_bytes == sum(len(d) for d in rig.store.data.values()), "each byte once"
    run(go())


def test_host_without_key_refused(tmp_path):
    async def go():
        rig = await Rig(tmp_path, n=3, provision=False).start()
        with pytest.raises(AuthError, match="no key for device sw-rig"):
            await rig.sync()
        # a stranger with a made-up key, speaking the protocol directly
        t = rig.transport
        await t.connect()
        c = SyncClient(t)
        info = await c.info()
        assert info["id"] == "sw-rig"
        with pytest.raises(AuthError):
            await c.authenticate(bytes(range(32)))
        refused = []
        for call in (c.list_sessions(), c.request(sp.OP_ACK, struct.pack("<I", 1) + bytes(32)), c.status(),
                     c.set_clock(CLOCK), c.upload_plan(json.dumps(DEFAULT_PLAN))):
            with pytest.raises(DeviceError) as e:
                await call
            refused.append(e.value.status)
        got = []
        with pytest.raises(DeviceError) as e:
            await c.read(1, 0, 0, lambda o, d: got.append(d))
        assert e.value.status == sp.E_AUTH_REQUIRED and not got
        await t.close()
        assert refused == [sp.E_AUTH_REQUIRED] * 5
        assert rig.store.acked == set() and rig.store.clock is None and rig.plans == []
        assert rig.store.reads == 0
        assert rig.db.sessions() == []
    run(go())


def test_device_information_readable_without_auth(tmp_path):
    async def go():
        rig = await Rig(tmp_path).start()
        await rig.transport.connect()
        dis = await rig.transport.read_device_information()
        await rig.transport.close()
        assert dis["serial"] == "sw-rig" and dis["manufacturer"] == "Sprintwatch"
    run(go())


def test_malformed_requests_over_the_air_get_errors(tmp_path):
    async def go():
        rig = await Rig(tmp_path).start()
        t = rig.transport
        await t.connect()
        reader = sp.FrameReader()
        answers = []
        for frame in (b"\x01\x00\x00", b"\x10\x00\x09\x00\x00\x00\x00\x00abc", bytes([0x55]) + bytes(7),
                      sp.request(sp.OP_INFO), sp.request(sp.OP_LIST), sp.request(sp.OP_INFO, bytes(500))):
            await t.send(frame)
            while True:
                f = reader.next()
                if f is not None:
                    break
                reader.feed(await t.recv(5))
            answers.append(sp.parse_plain(f))
        assert [a[1] for a in answers] == [sp.E_MALFORMED, sp.E_MALFORMED, sp.E_UNKNOWN_OP, sp.OK,
                                           sp.E_AUTH_REQUIRED, sp.E_MALFORMED]  # INFO takes no payload
        assert all(a[3][4:] for a in answers if a[1]), "every error names what is wrong"
        # the device is still fine: a well-formed session works on the same link
        c = SyncClient(t)
        c.device_id = "sw-rig"
        await c.authenticate(rig.key[1])
        assert len(await c.list_sessions()) == 6
        await t.close()
    run(go())


def test_large_write_needs_the_enlarged_buffer(tmp_path):
    """Without gatts_set_buffer the port keeps 20 bytes: a plan upload would be cut."""
    async def go():
        rig = await Rig(tmp_path).start()
        ble = rig.dev.ble
        rx = rig.dev.peripheral.rx
        assert ble._values[rx].size == sp.MAX_REQUEST
        await rig.transport.connect()
        c = SyncClient(rig.transport)
        await c.info()
        await c.authenticate(rig.key[1])
        name = await c.upload_plan(json.dumps(DEFAULT_PLAN))
        assert name == DEFAULT_PLAN["name"] and rig.plans == [json.dumps(DEFAULT_PLAN)]
        ble.gatts_set_buffer(rx, 20)
        with pytest.raises(DeviceError) as e:
            await c.upload_plan(json.dumps(DEFAULT_PLAN))
        assert e.value.status == sp.E_MALFORMED
        await rig.transport.close()
    run(go())


def test_notify_after_disconnect_does_not_break_the_device(tmp_path):
    async def go():
        rig = await Rig(tmp_path, n=2).start()
        p = rig.dev.peripheral
        await rig.transport.connect()
        c = SyncClient(rig.transport)
        await c.info()
        await c.authenticate(rig.key[1])
        old = p.conn
        await rig.transport.close()
        await asyncio.sleep(0.05)
        with pytest.raises(OSError):
            rig.dev.ble.gatts_notify(old, p.tx, b"late")
        p.conn = old                      # the firmware has not heard of the disconnect yet
        p.server.outbox.append(sp.plain_frame(sp.OP_INFO | sp.RESPONSE, 0, 0, b"late"))
        assert p.service() is False and p.conn is None
        r = await rig.sync()              # and it still serves the next host
        assert len(r.synced) == 2
    run(go())


def test_notify_queue_full_is_retried(tmp_path):
    async def go():
        rig = await Rig(tmp_path, n=10, size_base=8000).start()
        r = await rig.sync()
        rig.stored_equals_device()
        assert rig.dev.ble.notify_enomem > 0 and rig.dev.peripheral.notify_retries > 0
        assert r.data_bytes == sum(len(d) for d in rig.store.data.values())
    run(go())


def test_sync_at_the_minimum_mtu(tmp_path):
    """A central that never raises the MTU still syncs; responses span notifications."""
    async def go():
        rig = Rig(tmp_path, n=3)
        rig.dev = await SimDevice(rig.store, rig.key).start()
        rig.transport = BumbleTransport(rig.dev.link, max_mtu=23)
        r = await rig.sync()
        assert rig.transport.mtu == 23 and rig.dev.ble.largest_notify == 20
        rig.stored_equals_device()
        assert len(r.synced) == 3
    run(go())


def test_device_key_file_written_by_host_is_read_by_firmware(tmp_path):
    from host_tools import mpbluetooth
    sys.modules.setdefault("bluetooth", mpbluetooth)
    from swrt import ble_mp
    db = SessionDB(tmp_path / "k.db")
    dev_id, key, key_file = device_keys.provision(db)
    path = device_keys.write_key_file(tmp_path, key_file)
    assert ble_mp.load_key(path) == (dev_id, key) == device_keys.read_key_file(tmp_path)
    assert device_keys.provision(db, dev_id)[1] == key, "re-flashing keeps the key"
    # the laptop accepts exactly the key files the board accepts
    for bad in ("garbage", '{"id": "%s", "key": "%s"}' % ("x" * 40, key.hex()),
                '{"id": "sw-1", "key": "%s"}' % key.hex()[:-2]):
        (tmp_path / "sync.key").write_text(bad)
        assert ble_mp.load_key(path) is None
        with pytest.raises(ValueError, match="sync.key"):
            device_keys.read_key_file(tmp_path)
    assert ble_mp.load_key(str(tmp_path / "missing")) is None
    assert device_keys.read_key_file(tmp_path / "missing") is None


def test_wiped_device_reusing_ids_never_overwrites_stored_sessions(tmp_path):
    async def go():
        rig = await Rig(tmp_path, n=3).start()
        await rig.sync()
        old = {sid: rig.db.data("sw-rig", sid) for sid in (1, 2, 3)}
        rig.store.data.clear()                 # storage wiped: numbering starts again
        rig.store.acked.clear()
        rig.store.add(1, session_bytes(1, 1400, variant=1))   # a newer session with a recycled id
        r = await rig.sync()
        assert r.synced == [(1, len(rig.store.data[1]))]
        rows = rig.db.sessions("sw-rig")
        assert len(rows) == 4
        blobs = {rig.db.data("sw-rig", 2), rig.db.data("sw-rig", 3)}
        assert blobs == {old[2], old[3]} and rig.db.data("sw-rig", 1) == rig.store.data[1]
        kept = rig.db.db.execute("SELECT data FROM sessions WHERE session_id=1").fetchall()
        assert {bytes(k[0]) for k in kept} == {old[1], rig.store.data[1]}
    run(go())


def test_link_dropped_at_every_single_notification(tmp_path):
    """Sweep: for each notification of a whole sync in turn, drop the link right after it."""
    async def count():
        rig = await Rig(tmp_path / "count", n=2, size_base=1200).start()
        await rig.sync()
        return rig.dev.ble.faults.sent

    async def once(k):
        rig = await Rig(tmp_path / str(k), n=2, size_base=1200).start()
        rig.dev.ble.faults.drop_at = {k}
        r = await rig.sync()
        assert rig.dev.ble.faults.dropped == 1, k
        rig.stored_equals_device()
        assert rig.store.acked == {1, 2} and rig.store.clock == CLOCK, k
        assert r.data_bytes == sum(len(d) for d in rig.store.data.values()), k

    for d in ("count",):
        (tmp_path / d).mkdir()
    total = run(count())
    assert total > 12
    for k in range(1, total + 1):
        (tmp_path / str(k)).mkdir()
        run(once(k))


def test_real_sessions_from_the_firmware_store(tmp_path):
    """The firmware's session store on a folder, filled by the simulator: synced sessions
    are decoded on the laptop, acknowledged on the device, and the next session is dated."""
    from host_tools import simstore
    import swrt.sim as fwsim

    async def go():
        store = simstore.open_store(tmp_path / "flash")
        simstore.fill(store, 3)
        db = SessionDB(tmp_path / "s.db")
        key = device_keys.provision(db, "sw-real")[:2]
        dev = await SimDevice(store, key).start()
        r = await sync.sync(BumbleTransport(dev.link), db, clock=lambda: CLOCK)
        assert [s for s, _ in r.synced] == [1, 2, 3]
        rows = db.sessions("sw-real")
        for _d, sid, size, _digest, meta, _at, acked in rows:
            assert acked and meta["plan"] == "Descending Sprints" and meta["reps"] == 6
            assert meta["session"] == sid and meta["wall_s"] >= simstore.FIRST_SESSION_S
            assert "problems" not in meta
            assert db.data("sw-real", sid) == store.read(sid, 0, size)
        assert [state for _sid, state in store.ids()] == ["acknowledged"] * 3
        assert store.clock is not None and store.status()["clock_set"]
        # a session run after the sync carries the date the laptop set
        fwsim.run({"out": str(tmp_path), "presses": simstore.runner_taps(__import__("random").Random(2))},
                  store=store)
        r2 = await sync.sync(BumbleTransport(dev.link), db, clock=lambda: CLOCK + 7200)
        assert [s for s, _ in r2.synced] == [4]
        meta = db.sessions("sw-real")[-1][4]
        assert abs(meta["wall_s"] - CLOCK) < 60
        await dev.stop()
    run(go())


def test_a_sniffer_sees_no_session_bytes(tmp_path):
    async def go():
        rig = await Rig(tmp_path, n=4).start()
        rig.dev.ble.faults.sniffed = []
        await rig.sync()
        rig.stored_equals_device()
        air = b"".join(rig.dev.ble.faults.sniffed)
        assert len(air) > sum(len(d) for d in rig.store.data.values())
        for data in rig.store.data.values():
            for i in range(0, len(data) - 16, 16):
                assert data[i:i + 16] not in air, "plain session bytes went over the air"
    run(go())


def test_key_from_the_flash_tools_host_copy(tmp_path, monkeypatch):
    """A board flashed from this laptop syncs into a database that never saw its key."""
    monkeypatch.setenv("SPRINTWATCH_DATA", str(tmp_path / "data"))
    secret = bytes(range(32))
    device_keys.save_host_key("sw-flashed", secret)

    async def go():
        store = MemStore(sizes(2))
        dev = await SimDevice(store, ("sw-flashed", secret)).start()
        db = SessionDB(tmp_path / "fresh.db")
        r = await sync.sync(BumbleTransport(dev.link), db, clock=lambda: CLOCK)
        assert len(r.synced) == 2 and db.key("sw-flashed") == secret
    run(go())


class FlippingStore(MemStore):
    """A store whose reads of session ``sid`` come back with one byte flipped, the
    first ``times`` times: each chunk's CRC is made over the flipped bytes, so only
    the whole session's digest can catch it."""

    def __init__(self, sizes, sid, times):
        super().__init__(sizes)
        self.flip_sid, self.flips_left = sid, times

    def read(self, sid, offset, n):
        chunk = super().read(sid, offset, n)
        if sid == self.flip_sid and self.flips_left and offset <= 100 < offset + len(chunk):
            self.flips_left -= 1
            chunk = bytearray(chunk)
            chunk[100 - offset] ^= 0x01
            chunk = bytes(chunk)
        return chunk


@pytest.mark.parametrize("times", [1, 2])
def test_flipped_byte_fails_the_digest_and_is_read_again(tmp_path, times):
    async def go():
        rig = Rig(tmp_path, n=3)
        rig.store = FlippingStore(sizes(3), 2, times)
        await rig.start()
        if times == 1:
            r = await rig.sync()
            assert any("session 2: digest mismatch; downloading it again" in m for m in rig.log)
            rig.stored_equals_device()
            assert rig.store.acked == {1, 2, 3}
            assert r.bad_chunks == 0, "every chunk passed its CRC"
        else:   # wrong twice: nothing stored or acknowledged for it
            with pytest.raises(sync.SyncFailed, match="session 2: digest mismatch after reading it twice"):
                await rig.sync()
            assert 2 not in rig.store.acked and rig.db.data("sw-rig", 2) is None
    run(go())


def test_wiped_device_with_a_same_shaped_session_is_still_downloaded(tmp_path):
    """The new session 1 has the old one's size and record lengths (so the same
    whole-file CRC-32); the digest tells them apart, so it is stored, not skipped."""
    from swcore import logformat as fmt

    def session(plan, rep_ms):
        return (fmt.encode_header(1, 1, plan, 0xCAFE, "0.1.0")
                + fmt.encode_record(rep_ms, "rep", {"rep": 1, "duration_ms": rep_ms}))

    old, new = session("Sprints A", 12000), session("Sprints B", 13000)
    assert len(old) == len(new) and fmt.crc32(old) == fmt.crc32(new)

    async def go():
        rig = await Rig(tmp_path, n=0).start()
        rig.store.add(1, old)
        await rig.sync()
        rig.store.data.clear()                 # storage wiped: numbering starts again
        rig.store.acked.clear()
        rig.store.add(1, new)
        r = await rig.sync()
        assert r.synced == [(1, len(new))] and rig.store.acked == {1}
        kept = rig.db.db.execute("SELECT data FROM sessions WHERE session_id=1").fetchall()
        assert {bytes(k[0]) for k in kept} == {old, new}
    run(go())


def test_database_keyed_by_crc32_is_converted_without_a_new_download(tmp_path):
    """A database from before the digest: its sessions keep their data, get their
    digest, and the next sync neither downloads them again nor stores them twice."""
    import sqlite3
    import zlib
    path = tmp_path / "old.db"
    store = MemStore(sizes(2))
    old = sqlite3.connect(str(path))
    old.executescript("""
        CREATE TABLE devices (device_id TEXT PRIMARY KEY, key BLOB NOT NULL, name TEXT, last_sync INTEGER);
        CREATE TABLE sessions (device_id TEXT NOT NULL, session_id INTEGER NOT NULL, size INTEGER NOT NULL,
            crc32 INTEGER NOT NULL, data BLOB NOT NULL, meta TEXT NOT NULL, synced_at INTEGER NOT NULL,
            acked INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (device_id, session_id, crc32));
        CREATE TABLE partials (device_id TEXT NOT NULL, session_id INTEGER NOT NULL, size INTEGER NOT NULL,
            crc32 INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (device_id, session_id));""")
    key = bytes(range(32))
    old.execute("INSERT INTO devices VALUES ('sw-old', ?, NULL, NULL)", (key,))
    for sid, data in store.data.items():
        old.execute("INSERT INTO sessions VALUES ('sw-old', ?, ?, ?, ?, '{}', 1, 1)",
                    (sid, len(data), zlib.crc32(data), data))
    old.commit()
    old.close()

    async def go():
        db = SessionDB(path)
        assert [r[3] for r in db.sessions()] == [s[2] for s in store.sessions()]
        dev = await SimDevice(store, ("sw-old", key)).start()
        r = await sync.sync(BumbleTransport(dev.link), db, clock=lambda: CLOCK)
        assert r.synced == [] and r.data_bytes == 0
        assert len(db.sessions()) == 2 and db.data("sw-old", 1) == store.data[1]
    run(go())


def test_a_session_the_reader_cannot_decode_is_stored_but_never_acknowledged(tmp_path):
    """(issue 15) Bytes whose digest is right but whose header the firmware's reader
    refuses (a plan name that is not UTF-8) are kept on the laptop, and the device is
    never told it may delete them."""
    from swcore import logformat as fmt
    head = bytearray(fmt.encode_header(2, 1, "Hill XXX", 0, "0.1.0"))
    at = bytes(head).index(b"XXX")
    head[at:at + 3] = b"\xed\xa0\xbc"
    head[-4:] = struct.pack("<I", fmt.crc32(bytes(head[:-4])))
    unreadable = bytes(head) + fmt.encode_record(5, "rep", {"rep": 1})
    good = fmt.encode_header(1, 1, "Sprints", 0, "0.1.0") + fmt.encode_record(5, "rep", {"rep": 1})

    async def go():
        rig = await Rig(tmp_path, n=0).start()
        rig.store.add(1, good)
        rig.store.add(2, unreadable)
        r = await rig.sync()
        assert rig.store.acked == {1} and r.acked == [1]
        assert rig.db.data("sw-rig", 2) == unreadable           # nothing lost on the laptop
        assert any("session 2: stored, not acknowledged" in line and "UTF-8" in line for line in rig.log), rig.log
    run(go())
