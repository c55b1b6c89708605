"""Sync transport over a real Bluetooth adapter with bleak (Linux, macOS, Windows)."""
import asyncio

from host_tools import firmware  # noqa: F401
from host_tools.transport import LinkLost, NoBluetooth, Transport
from swcore import syncproto as sp


class BleakTransport(Transport):
    def __init__(self, address=None, scan_timeout=10.0, pair=False):
        super().__init__()
        self.pair = pair
        self.pair_error = None
        self.address = address
        self.scan_timeout = scan_timeout
        self.client = None

    async def _find(self):
        try:
            return await self._scan()
        except LinkLost:
            raise
        except Exception as e:  # no adapter, no BlueZ/D-Bus, no permission
            raise NoBluetooth("no Bluetooth adapter usable (%s: %s); `--sim` runs a simulated device"
                              % (type(e).__name__, e))

    async def _scan(self):
        from bleak import BleakScanner
        if self.address:
            dev = await BleakScanner.find_device_by_address(self.address, timeout=self.scan_timeout)
            if dev is None:
                raise LinkLost("no device with address %s in range" % self.address)
            return dev
        want = sp.SERVICE_UUID.lower()
        dev = await BleakScanner.find_device_by_filter(
            lambda d, adv: want in [u.lower() for u in adv.service_uuids], timeout=self.scan_timeout)
        if dev is None:
            raise LinkLost("no Sprintwatch found in %.0f s: is it awake and in range?" % self.scan_timeout)
        return dev

    async def connect(self):
        from bleak import BleakClient
        from bleak.exc import BleakError
        self._reset()
        dev = await self._find()
        self.description = "%s (%s)" % (getattr(dev, "name", None) or "Sprintwatch", dev.address)
        self.client = BleakClient(dev, disconnected_callback=self._disconnected)
        try:
            await self.client.connect()
            backend = getattr(self.client, "_backend", None)
            if type(backend).__name__ == "BleakClientBlueZDBus":
                try:  # BlueZ reports 23 until asked (bleak's own advice, issue #1497)
                    await backend._acquire_mtu()
                except Exception:
                    pass  # only our plan upload chunk size depends on it
            if self.pair:
                try:   # LE Secure Connections bonding where the OS and adapter offer it
                    await self.client.pair()
                except Exception as e:  # not supported here: the protocol's own sealing still holds
                    self.pair_error = "%s: %s" % (type(e).__name__, e)
            self.mtu = self.client.mtu_size   # the OS exchanges the largest MTU it allows
            await self.client.start_notify(sp.TX_UUID, lambda _char, data: self._notified(data))
        except (BleakError, asyncio.TimeoutError, OSError) as e:
            raise LinkLost("cannot connect to %s: %s" % (self.description, e))

    async def send(self, frame):
        from bleak.exc import BleakError
        if self._lost.is_set():
            raise LinkLost("link lost")
        try:
            await self.client.write_gatt_char(sp.RX_UUID, frame, response=True)
        except (BleakError, asyncio.TimeoutError, OSError) as e:
            raise LinkLost("write failed: %s" % e)

    async def close(self):
        if self.client is not None:
            try:
                await self.client.disconnect()
            except Exception:
                pass
        self._lost.set()
