"""CircuitPython Bluetooth over a real stack: adafruit_ble's own code on a ``_bleio``
made of Bumble (peripheral), the unchanged host sync client on another controller."""
import asyncio
import struct
import sys
from pathlib import Path

import pytest

from host_tools import device_keys, sync
from host_tools.sessiondb import SessionDB
from host_tools.simdevice_cp import CPSimDevice
from host_tools.syncclient import AuthError, DeviceError, SyncClient
from host_tools.transport import LinkLost
from host_tools.transport_bumble import BumbleTransport
from swcore import syncproto as sp

sys.path.insert(0, str(Path(__file__).parent / "firmware"))
from memstore import MemStore  # noqa: E402

CLOCK = 1790000000


def sizes(n, base=2500):
    return [base + 97 * (i % 13) for i in range(n)]


class Rig:
    def __init__(self, tmp_path, n=6, provision=True, board="clue"):
        self.db = SessionDB(tmp_path / "sessions.db")
        self.store = MemStore(sizes(n))
        self.key = (device_keys.provision(self.db, "sw-cp")[:2] if provision else ("sw-cp", bytes(32)))
        self.plans = []
        self.log = []
        self.board = board

    async def start(self):
        self.dev = await CPSimDevice(self.store, self.key, install_plan=self.plans.append,
                                     board=self.board).start()
        self.transport = BumbleTransport(self.dev.link)
        return self

    async def sync(self):
        return await sync.sync(self.transport, self.db, clock=lambda: CLOCK, log=self.log.append)

    def stored_equals_device(self):
        for sid, _size, _crc in self.store.sessions():
            assert self.db.data("sw-cp", sid) == self.store.data[sid], "session %d differs" % sid


def run(coro):
    return asyncio.run(coro)


def test_the_device_side_is_adafruit_ble_itself(tmp_path):
    async def go():
        rig = await Rig(tmp_path).start()
        import adafruit_ble
        import _bleio
        from adafruit_ble.services import Service
        p = rig.dev.peripheral
        assert isinstance(p.radio, adafruit_ble.BLERadio) and isinstance(p.sync, Service)
        assert Path(adafruit_ble.__file__).parent.parent.name == ".cplib"
        assert _bleio.adapter is rig.dev.ble
        adv = bytes(p.advertisement)
        assert sp.uuid_bytes(sp.SERVICE_UUID) in adv      # found by its service UUID
    run(go())


@pytest.mark.parametrize("board", ["clue", "circuitplayground-bluefruit"])
def test_full_sync_then_nothing_new(tmp_path, board):
    async def go():
        rig = await Rig(tmp_path, n=20, board=board).start()
        r = await rig.sync()
        assert [s for s, _ in r.synced] == list(range(1, 21))
        rig.stored_equals_device()
        assert rig.store.acked == set(range(1, 21))
        assert r.data_bytes == sum(len(d) for d in rig.store.data.values()), "each byte once"
        assert rig.store.clock == CLOCK and r.clock_set == CLOCK
        assert rig.transport.mtu == 247, "the CircuitPython build's largest MTU"
        assert rig.dev.ble.largest_notify == 247 - 3, "notifications fill the MTU"
        again = await rig.sync()
        assert again.synced == [] and again.data_bytes == 0
    run(go())


@pytest.mark.parametrize("drops", [(1,), (5,), (12, 13), (20, 33, 34, 55)])
def test_dropped_link_resumes_without_reading_a_byte_twice(tmp_path, drops):
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
    run(go())


def test_host_without_key_refused(tmp_path):
    async def go():
        rig = await Rig(tmp_path, n=3, provision=False).start()
        with pytest.raises(AuthError, match="no key for device sw-cp"):
            await rig.sync()
        t = rig.transport
        await t.connect()
        c = SyncClient(t)
        assert (await c.info())["id"] == "sw-cp"
        with pytest.raises(AuthError):
            await c.authenticate(bytes(range(32)))
        for call in (c.list_sessions(), c.request(sp.OP_ACK, struct.pack("<I", 1) + bytes(32)),
                     c.set_clock(CLOCK)):
            with pytest.raises(DeviceError) as e:
                await call
            assert e.value.status == sp.E_AUTH_REQUIRED
        await t.close()
        assert rig.store.acked == set() and rig.store.clock is None and rig.store.reads == 0
        assert rig.db.sessions() == []
    run(go())


def test_device_information_readable_without_auth(tmp_path):
    async def go():
        rig = await Rig(tmp_path).start()
        await rig.transport.connect()
        dis = await rig.transport.read_device_information()
        await rig.transport.close()
        assert dis["serial"] == "sw-cp" and dis["manufacturer"] == "Sprintwatch"
    run(go())


def test_sprintwatch_sync_sim_board_runs_the_circuitpython_device(tmp_path, capsys):
    from host_tools import cli
    db = str(tmp_path / "sessions.db")
    rc = cli.main(["sync", "--sim", "--board", "circuitplayground-bluefruit", "--db", db,
                   "--no-progress"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "synced 12 sessions" in out and "device clock set to" in out
    import _bleio
    assert type(_bleio.adapter).__module__ == "host_tools.bleio_bumble"   # adafruit_ble served it
    rc = cli.main(["sync", "--sim", "--board", "circuitplayground-bluefruit", "--db", db,
                   "--no-progress"])
    out, _ = capsys.readouterr()
    assert rc == 0 and "nothing new" in out


def test_sync_sim_unknown_board_names_the_known_ones(tmp_path, capsys):
    from host_tools import cli
    with pytest.raises(SystemExit, match="unknown board 'nope'.*clue"):
        cli.main(["sync", "--sim", "--board", "nope", "--db", str(tmp_path / "s.db")])


def test_a_write_longer_than_the_characteristic_is_refused_and_sync_goes_on(tmp_path):
    async def go():
        rig = await Rig(tmp_path, n=3).start()
        t = rig.transport
        await t.connect()
        with pytest.raises(Exception) as e:               # the stack answers with an ATT error
            await t.peer.write_value(t.rx, bytes(sp.MAX_REQUEST + 1), with_response=True)
        assert getattr(e.value, "error_code", None) == 0x0D, repr(e.value)   # invalid length
        await t.close()
        r = await rig.sync()                              # the device is none the worse
        assert [s for s, _ in r.synced] == [1, 2, 3]
        rig.stored_equals_device()
    run(go())


# ---- _bleio as the C code behaves (ports/nrf/common-hal/_bleio/PacketBuffer.c)

def test_before_the_subscription_nothing_is_sent_and_nothing_is_lost(tmp_path):
    """outgoing_packet_length raises ValueError and write() returns 0 until the CCCD
    write: the sync task must live through it and send the reply once subscribed."""
    async def go():
        rig = await Rig(tmp_path, n=2).start()
        t = BumbleTransport(rig.dev.link, subscribe=False)
        await t.connect()
        import _bleio
        frames = rig.dev.peripheral.sync.frames
        with pytest.raises(ValueError):
            frames.outgoing_packet_length
        assert frames.write(b"x") == 0, "write sends nothing before the subscription"
        await t.send(sp.request(sp.OP_INFO))     # a request before subscribing
        await asyncio.sleep(0.1)                 # the firmware's loop runs meanwhile
        assert not rig.dev._pump_task.done(), "the sync task died between connect and subscribe"
        assert rig.dev.ble.att_bytes_out == 0
        await t.subscribe()
        c = SyncClient(t)
        c.reader.feed(await t.recv(5))
        kind, status, _req, body = await c._next()
        assert kind == sp.OP_INFO | sp.RESPONSE and status == sp.OK and b'"proto": 2' in body
        await t.close()
        assert isinstance(_bleio.adapter, type(rig.dev.ble))
    run(go())


def test_consecutive_small_writes_merge_into_one_notification(tmp_path):
    async def go():
        rig = await Rig(tmp_path, n=1).start()
        rig.dev.paused = True
        t = rig.transport
        await t.connect()
        frames = rig.dev.peripheral.sync.frames
        assert [frames.write(b) for b in (b"ab", b"cd", b"ef")] == [2, 2, 2]
        got = [await t.recv(5), await t.recv(5)]
        assert got == [b"ab", b"cdef"], "the second and third writes left as one notification"
        assert frames.merged == 1
        await t.close()
    run(go())


class Rechunking(BumbleTransport):
    """Hands the host the device's notifications re-cut: several joined into one, or
    one split in two, as a stack that merges writes does."""

    def __init__(self, link, rnd):
        super().__init__(link)
        self.rnd = rnd
        self.stash = b""

    async def recv(self, timeout):
        while True:
            if self.stash and self.rnd.random() < 0.4:
                cut = self.rnd.randint(1, len(self.stash))
                out, self.stash = self.stash[:cut], self.stash[cut:]
                return out
            try:
                self.stash += await super().recv(timeout if not self.stash else 0.01)
            except TimeoutError:
                if not self.stash:
                    raise
                out, self.stash = self.stash, b""
                return out


def test_host_reads_frames_by_length_whatever_the_notification_boundaries(tmp_path):
    import random

    async def go():
        rig = await Rig(tmp_path, n=6).start()
        rig.transport = Rechunking(rig.dev.link, random.Random(3))
        r = await rig.sync()
        rig.stored_equals_device()
        assert rig.store.acked == set(range(1, 7)) and r.tampered == 0
    run(go())


def test_pipelined_requests_lost_by_the_full_ring_are_sent_again(tmp_path):
    """The RX ring holds 4 x (2 + 512) bytes and drops its oldest packets when a write
    does not fit, after the central got its write response. 60 ACKs pipelined while
    the firmware's loop is busy: the lost ones are detected and sent again."""
    async def go():
        rig = Rig(tmp_path, n=60)
        rig.store = MemStore([200 + i for i in range(60)])
        await rig.start()
        t = rig.transport
        await t.connect()
        c = SyncClient(t)
        await c.info()
        await c.authenticate(rig.key[1])
        rig.dev.paused = True
        reqs = [c.ack_request(sid, rig.store.data[sid]) for sid in range(1, 61)]

        async def resume():
            while rig.dev.peripheral.sync.requests.dropped == 0:
                await asyncio.sleep(0.01)
            rig.dev.paused = False
        waker = asyncio.ensure_future(resume())
        answers = await c.pipeline(reqs, window=60)
        await waker
        assert rig.dev.peripheral.sync.requests.dropped > 0, "the ring did drop requests"
        assert c.resent >= rig.dev.peripheral.sync.requests.dropped
        assert answers == [b""] * 60 and rig.store.acked == set(range(1, 61))
        assert await c.status()                      # the link still works
        await t.close()
    run(go())


def test_unread_requests_from_an_unauthenticated_peer_do_not_grow_the_heap(tmp_path):
    """2000 INFO requests from a central that never subscribes to the replies: the
    device keeps a bounded queue and drops the peer after its few seconds."""
    async def go():
        rig = Rig(tmp_path, n=1)
        rig.dev = await CPSimDevice(rig.store, rig.key, unauth_timeout_ms=1500).start()
        t = BumbleTransport(rig.dev.link, subscribe=False)
        await t.connect()
        server = rig.dev.peripheral.server
        most = sent = 0
        for _ in range(2000):
            try:
                await t.send(sp.request(sp.OP_INFO))
            except LinkLost:
                break
            sent += 1
            most = max(most, server.out_bytes)
        assert sent > 100 and server.counts.get("busy"), "enough to fill the queue"
        assert most <= sp.MAX_OUTBOX + 400
        for _ in range(300):
            if t._lost.is_set():
                break
            await asyncio.sleep(0.01)
        assert t._lost.is_set(), "the device dropped the squatter"
        rig.transport = BumbleTransport(rig.dev.link, host_address="F0:F1:F2:F3:F4:F6")
        r = await rig.sync()
        assert len(r.synced) == 1, "and serves its owner"
    run(go())
