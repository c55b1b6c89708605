"""The bleak transport's glue, with bleak's client and scanner replaced by fakes that
feed the firmware's SyncServer directly (no radio on test machines)."""
import asyncio
import sys
from pathlib import Path

import bleak
import pytest
from bleak.exc import BleakError

from host_tools import device_keys, sync
from host_tools.sessiondb import SessionDB
from host_tools.transport_bleak import BleakTransport
from swcore import syncproto as sp

sys.path.insert(0, str(Path(__file__).parent / "firmware"))
from memstore import MemStore  # noqa: E402


class FakeDevice:
    address = "AA:BB:CC:DD:EE:FF"
    name = "Sprintwatch"


class FakeAdv:
    service_uuids = [sp.SERVICE_UUID.upper()]


def fakes(server, fail_after=None):
    state = {"writes": 0}

    class Scanner:
        @staticmethod
        async def find_device_by_filter(fn, timeout=None):
            return FakeDevice() if fn(FakeDevice(), FakeAdv()) else None

        @staticmethod
        async def find_device_by_address(addr, timeout=None):
            return FakeDevice() if addr == FakeDevice.address else None

    class Client:
        def __init__(self, dev, disconnected_callback=None):
            self.gone = disconnected_callback
            self.mtu_size = 247
            self.notify = None

        async def connect(self):
            server.connect(self.mtu_size)

        async def start_notify(self, uuid, cb):
            assert uuid == sp.TX_UUID
            self.notify = cb

        async def write_gatt_char(self, uuid, data, response=None):
            assert uuid == sp.RX_UUID and response is True
            state["writes"] += 1
            if fail_after is not None and state["writes"] > fail_after:
                self.gone(self)
                raise BleakError("Not connected")
            server.handle(bytes(data))
            while True:
                f = server.next_piece(self.mtu_size - 3)
                if f is None:
                    break
                self.notify(None, bytearray(f))

        async def pair(self):
            state["paired"] = True

        async def disconnect(self):
            server.disconnect()

    Client.state = state
    return Scanner, Client


def test_sync_through_the_bleak_transport(tmp_path, monkeypatch):
    db = SessionDB(tmp_path / "s.db")
    dev_id, key, _ = device_keys.provision(db)
    store = MemStore([1500, 2600, 90])
    server = sp.SyncServer(store, (dev_id, key), bytes)
    scanner, client = fakes(server)
    monkeypatch.setattr(bleak, "BleakScanner", scanner)
    monkeypatch.setattr(bleak, "BleakClient", client)
    report = asyncio.run(sync.sync(BleakTransport(pair=True), db, clock=lambda: 1790000000))
    assert client.state.get("paired"), "asked the OS to pair"
    assert [s for s, _ in report.synced] == [1, 2, 3]
    assert all(db.data(dev_id, s) == store.data[s] for s in (1, 2, 3))
    assert store.acked == {1, 2, 3} and store.clock == 1790000000


def test_bleak_errors_become_link_lost_and_unknown_address_reported(tmp_path, monkeypatch):
    db = SessionDB(tmp_path / "s.db")
    dev_id, key, _ = device_keys.provision(db)
    server = sp.SyncServer(MemStore([500]), (dev_id, key), bytes)
    scanner, client = fakes(server, fail_after=2)
    monkeypatch.setattr(bleak, "BleakScanner", scanner)
    monkeypatch.setattr(bleak, "BleakClient", client)
    with pytest.raises(sync.SyncFailed, match="gave up"):
        asyncio.run(sync.sync(BleakTransport(), db))
    with pytest.raises(Exception, match="no device with address 11:22"):
        asyncio.run(BleakTransport(address="11:22:33:44:55:66").connect())
