"""CircuitPython Bluetooth over a real stack: adafruit_ble's own code on a ``_bleio``
made of Bumble (peripheral), the unchanged host sync client on another controller."""
import asyncio
import sys
from pathlib import Path

import pytest

from host_tools import device_keys, sync
from host_tools.sessiondb import SessionDB
from host_tools.simdevice_cp import CPSimDevice
from host_tools.syncclient import AuthError, DeviceError, SyncClient
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
        for call in (c.list_sessions(), c.ack(1, rig.store.sessions()[0][2]), c.set_clock(CLOCK)):
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
