"""The sync service on CircuitPython with ``adafruit_ble`` (nRF52840: Circuit Playground
Bluefruit, CLUE), where MicroPython has no ``bluetooth`` module.

The same protocol (``swcore.syncproto``: frames, key check, requests; see
docs/ble-protocol.md) as ``swrt.ble_mp``, carried by a ``Service`` subclass with the
protocol's RX (write) and TX (notify) characteristics, advertised with
``ProvideServicesAdvertisement``, beside the Device Information and Battery services.
CircuitPython has no GATT callbacks: ``service()``, called from an asyncio task,
polls the connection state, drains the requests a ``_bleio.PacketBuffer`` collected and
sends the frames that are ready, one notification each, filled to the link's MTU.
"""
import _bleio
from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement
from adafruit_ble.attributes import Attribute
from adafruit_ble.characteristics import Characteristic
from adafruit_ble.services import Service
from adafruit_ble.services.standard import BatteryService
from adafruit_ble.services.standard.device_info import DeviceInfoService
from adafruit_ble.uuid import VendorUUID

from swcore import syncproto as sp
from swrt.syncfiles import KEY_FILE, load_key, plan_installer, start_service  # noqa: F401 (callers use them from here)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from swcore.syncproto import SyncServer

MAX_FRAMES_PER_SERVICE = 16
IDLE_MS = 20
REQUEST_PACKETS = 4             # requests queued between two service() calls


class SyncService(Service):
    """The Sprintwatch sync service: requests in on RX, responses and data out on TX."""

    uuid = VendorUUID(sp.SERVICE_UUID)
    rx = Characteristic(uuid=VendorUUID(sp.RX_UUID), properties=Characteristic.WRITE,
                        read_perm=Attribute.NO_ACCESS, write_perm=Attribute.OPEN,
                        max_length=sp.MAX_REQUEST)
    tx = Characteristic(uuid=VendorUUID(sp.TX_UUID), properties=Characteristic.NOTIFY,
                        read_perm=Attribute.OPEN, write_perm=Attribute.NO_ACCESS,
                        max_length=512)

    def __init__(self, service=None):
        super().__init__(service=service)
        self.requests = _bleio.PacketBuffer(self.bleio_characteristics["rx"],
                                            buffer_size=REQUEST_PACKETS)
        self.frames = _bleio.PacketBuffer(self.bleio_characteristics["tx"], buffer_size=1)


class SyncPeripheral:
    """Serves one ``SyncServer`` over adafruit_ble, one central at a time."""

    def __init__(self, server, name="Sprintwatch", model="Sprintwatch", firmware="0", radio=None):
        # type: (SyncServer, str, str, str, BLERadio | None) -> None
        self.server = server
        self.radio = radio if radio is not None else BLERadio()
        self.radio.name = name
        device_id = server.key[0] if server.key else ""
        self.info = DeviceInfoService(manufacturer="Sprintwatch", model_number=model,
                                      serial_number=device_id, firmware_revision=firmware,
                                      software_revision=firmware, hardware_revision=model)
        self.battery = BatteryService()
        self.sync = SyncService()
        self.advertisement = ProvideServicesAdvertisement(self.sync)
        self.connected = False
        self.mtu = 0
        self.pending = None          # a frame the link could not take yet
        self.buf = bytearray(sp.MAX_REQUEST)

    def start(self, battery_pct=None):
        self.set_battery(battery_pct)
        self._advertise()

    def set_battery(self, pct):
        if pct is not None:
            self.battery.level = max(0, min(100, int(pct)))

    def _advertise(self):
        if not self.radio.advertising:
            self.radio.start_advertising(self.advertisement)

    def _lost(self):
        self.connected = False
        self.pending = None
        self.mtu = 0
        self.server.disconnect()

    def service(self):
        """Poll the link, hand requests to the server, send what is ready. True when
        more is waiting."""
        if not self.radio.connected:
            if self.connected:
                self._lost()
            self._advertise()          # connectable advertising stopped at the connection
            return False
        if not self.connected:
            self.connected = True
            self.server.connect()
        sync = self.sync
        while True:
            n = sync.requests.readinto(self.buf)
            if not n:
                break
            self.server.handle(bytes(self.buf[:n]))
        for _ in range(MAX_FRAMES_PER_SERVICE):
            mtu = sync.frames.outgoing_packet_length + 3
            if mtu != self.mtu:
                self.mtu = mtu
                self.server.set_mtu(mtu)
            frame = self.pending if self.pending is not None else self.server.next_frame()
            if frame is None:
                return False
            try:
                sync.frames.write(frame)
                self.pending = None
            except ConnectionError:    # not subscribed yet, or the link just went
                self.pending = frame
                return False
        return True

    async def run(self):
        """The board's asyncio task: send as fast as the link takes, idle slowly."""
        import asyncio
        sleep_ms = getattr(asyncio, "sleep_ms", None)
        while True:
            more = self.service()
            if sleep_ms is not None:
                await sleep_ms(0 if more else IDLE_MS)
            else:
                await asyncio.sleep(0 if more else IDLE_MS / 1000)


def start_sync(store, root="", name="Sprintwatch", model="Sprintwatch", firmware="0",
               battery=None, random=None):
    """Build and start the sync service for ``store``; returns the SyncPeripheral
    (see ``swrt.syncfiles.start_service``). Run ``peripheral.run()`` as an asyncio task."""
    return start_service(SyncPeripheral, store, root, name, model, firmware, battery, random)
