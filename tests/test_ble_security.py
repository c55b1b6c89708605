"""Sync security over a real Bluetooth stack (Bumble virtual link): what a stranger in
range, a sniffer and an old laptop can and cannot do (docs/ble-protocol.md, threat model)."""
import asyncio
import sys
from pathlib import Path

import pytest

from host_tools import device_keys, sync
from host_tools.sessiondb import SessionDB
from host_tools.simdevice import SimDevice
from host_tools.syncclient import SyncClient, VersionError
from host_tools.transport import LinkLost, Transport
from host_tools.transport_bumble import BumbleTransport
from swcore import syncproto as sp

sys.path.insert(0, str(Path(__file__).parent / "firmware"))
sys.path.insert(0, str(Path(__file__).parent / "legacy"))
from memstore import MemStore, session_bytes  # noqa: E402

CLOCK = 1790000000
SQUATTER = "E0:E1:E2:E3:E4:E5"


def run(coro):
    return asyncio.run(coro)


class Rig:
    def __init__(self, tmp_path, n=4, **server_options):
        self.db = SessionDB(tmp_path / "sessions.db")
        self.store = MemStore([1500 + 211 * i for i in range(n)])
        self.key = device_keys.provision(self.db, "sw-sec")[:2]
        self.options = server_options
        self.log = []

    async def start(self):
        self.dev = await SimDevice(self.store, self.key, **self.options).start()
        self.transport = BumbleTransport(self.dev.link)
        return self

    async def sync(self):
        return await sync.sync(self.transport, self.db, clock=lambda: CLOCK, log=self.log.append)


def test_a_passive_capture_of_a_whole_sync_holds_no_session_plaintext(tmp_path):
    async def go():
        rig = await Rig(tmp_path, n=4).start()
        rig.dev.ble.faults.sniffed = []
        rig.dev.ble.sniffed_writes = []
        await rig.sync()
        notifications = b"".join(rig.dev.ble.faults.sniffed)
        writes = b"".join(rig.dev.ble.sniffed_writes)
        assert len(notifications) > sum(len(d) for d in rig.store.data.values())
        for air in (notifications, writes):
            for sid, data in rig.store.data.items():
                for i in range(0, len(data) - 8, 8):
                    assert data[i:i + 8] not in air, "plain session bytes went over the air"
        for sid, size, digest in rig.store.sessions():   # LIST is sealed: no ids, sizes, digests
            assert (size.to_bytes(4, "little") + digest.to_bytes(4, "little")) not in notifications
        assert rig.key[1] not in notifications + writes
    run(go())


def test_an_idle_squatter_is_dropped_turned_away_and_the_owner_syncs(tmp_path):
    async def go():
        rig = await Rig(tmp_path, n=3, unauth_timeout_ms=800).start()
        squatter = BumbleTransport(rig.dev.link, host_address=SQUATTER)
        await squatter.connect()
        await asyncio.sleep(0)
        assert rig.dev.peripheral.conn is not None
        r = await rig.sync()              # the owner's laptop scans until the device is free
        assert len(r.synced) == 3 and rig.store.acked == {1, 2, 3}
        assert squatter._lost.is_set(), "the squatter was dropped"
        assert rig.dev.peripheral.server.counts["dropped"] >= 1
        with pytest.raises(LinkLost):     # and is turned away at once for a while
            await squatter.connect()
            await squatter.recv(2)
        assert rig.dev.peripheral.server.counts["refused"] >= 1
    run(go())


def test_a_stranger_with_a_wrong_key_is_rate_limited_and_the_owner_still_gets_in(tmp_path):
    async def go():
        rig = await Rig(tmp_path, n=2).start()
        stranger = BumbleTransport(rig.dev.link, host_address=SQUATTER)
        await stranger.connect()
        c = SyncClient(stranger)
        await c.info()
        from host_tools.syncclient import AuthError
        with pytest.raises(AuthError, match="key mismatch"):   # the device proves itself first
            await c.authenticate(bytes(32))
        server = rig.dev.peripheral.server
        hn = bytes(16)
        body = await c.request(sp.OP_AUTH_BEGIN, hn)
        with pytest.raises(Exception):
            await c.request(sp.OP_AUTH_PROVE, bytes(32))
        assert server.counts["auth-failed"] == 1
        with pytest.raises(Exception, match="try again"):
            await c.request(sp.OP_AUTH_BEGIN, hn)
        await stranger.close()
        r = await rig.sync()              # at once: the owner's laptop waits out the back-off
        assert len(r.synced) == 2
        assert any("device locked after failed handshakes" in m for m in rig.log)
        assert body and server.fails == 0, "a good handshake clears the count"
    run(go())


def test_an_old_laptop_is_told_to_update_sprintwatch(tmp_path):
    import v1_syncclient

    async def go():
        rig = await Rig(tmp_path, n=1).start()
        t = rig.transport
        await t.connect()
        old = v1_syncclient.SyncClient(t)
        with pytest.raises(v1_syncclient.DeviceError, match="update sprintwatch on this computer"):
            await old.info()
        with pytest.raises(v1_syncclient.AuthError, match="update sprintwatch on this computer"):
            await old.authenticate(rig.key[1])
        await t.close()
        assert rig.store.reads == 0 and rig.store.acked == set()
    run(go())


class Loopback(Transport):
    """Frames straight into a server object (no radio): for the protocol-1 device."""
    mtu = 185

    def __init__(self, server):
        super().__init__()
        self.server = server

    async def connect(self):
        self._reset()
        self.server.connect(self.mtu)

    async def send(self, frame):
        self.server.handle(frame)
        while True:
            f = self.server.next_frame()
            if f is None:
                return
            self._notified(f)

    async def close(self):
        self._lost.set()


def test_a_new_laptop_is_told_to_update_an_old_device(tmp_path):
    import v1_syncproto

    async def go():
        store = MemStore([100])
        server = v1_syncproto.SyncServer(store, ("sw-old", bytes(32)), lambda n: bytes(n))
        db = SessionDB(tmp_path / "s.db")
        db.set_key("sw-old", bytes(32))
        with pytest.raises(VersionError, match="protocol 1; update it"):
            await sync.sync(Loopback(server), db)
        assert store.acked == set() and store.clock is None
    run(go())


def test_sync_cli_says_what_to_update(tmp_path, monkeypatch, capsys):
    from host_tools import sync_cmd
    import v1_syncproto

    class Old:
        def __init__(self, store, key, **kw):
            self.server = v1_syncproto.SyncServer(store, key, lambda n: bytes(n))

        async def start(self):
            return self

        async def stop(self):
            pass

    @__import__("contextlib").asynccontextmanager
    async def old_device(args, db):
        dev = Old(MemStore([100]), ("sw-old", bytes(32)))
        db.set_key("sw-old", bytes(32))
        yield Loopback(dev.server)
    monkeypatch.setattr(sync_cmd, "open_transport", old_device)
    from host_tools import cli
    rc = cli.main(["sync", "--sim", "--db", str(tmp_path / "s.db"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 1 and "sync protocol 1; update it (sprintwatch flash)" in err


def test_le_secure_connections_pairing_then_the_bond_encrypts_the_next_link(tmp_path):
    """Bumble implements SMP: the laptop pairs (Just Works, LE Secure Connections) and
    bonds on the first sync; the next sync encrypts the link with the bond. The
    protocol's own sealing runs inside it either way."""
    async def go():
        rig = await Rig(tmp_path, n=2).start()
        rig.transport = BumbleTransport(rig.dev.link, pair=True)
        assert rig.dev.ble.security == {"bond": True, "le_secure": True, "mitm": False, "io": 3}
        r = await rig.sync()
        assert len(r.synced) == 2 and rig.transport.link_encrypted
        assert rig.transport.security_step == "paired"
        keys = await rig.transport.bond_keys(rig.transport.peer_address)
        assert keys is not None and keys.ltk is not None, "bonded: the long-term key is kept"
        rig.store.add(3, session_bytes(3, 900))
        r = await rig.sync()
        assert r.synced == [(3, len(rig.store.data[3]))] and rig.transport.link_encrypted
        # the device heard the encryption change (its INFO says so), on a link the bond encrypted
        t = rig.transport
        await t.connect()
        assert t.security_step == "bond" and t.link_encrypted, "the bond, not a new pairing"
        info = await SyncClient(t).info()
        await t.close()
        assert info["link_encrypted"] is True
    run(go())


def test_sync_cli_pairs_when_asked(tmp_path, capsys):
    from host_tools import cli
    rc = cli.main(["sync", "--sim", "--pair", "--db", str(tmp_path / "s.db"), "--no-progress"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "synced 12 sessions" in out and "Bluetooth link: encrypted (LE Secure Connections, bonded)" in out
