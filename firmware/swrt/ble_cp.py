"""The sync service on CircuitPython with ``adafruit_ble`` (nRF52840: Circuit Playground
Bluefruit, CLUE), where MicroPython has no ``bluetooth`` module.

The same protocol (``swcore.syncproto``: frames, key check, requests; see
docs/ble-protocol.md) as ``swrt.ble_mp``, carried by a ``Service`` subclass with the
protocol's RX (write) and TX (notify) characteristics, advertised with
``ProvideServicesAdvertisement``, beside the Device Information and Battery services.
CircuitPython has no GATT callbacks: ``service()``, called from an asyncio task,
polls the connection state, drains the requests a ``_bleio.PacketBuffer`` collected and
sends the frame stream in pieces of the link's MTU - 3 bytes.

What the C code of ``_bleio.PacketBuffer`` does (ports/nrf/common-hal/_bleio), and how
this copes: until the central writes the TX CCCD, ``outgoing_packet_length`` raises
ValueError and ``write`` returns 0 having sent nothing, so nothing is sent (or counted
as sent) before the subscription and the same bytes go again later; consecutive writes
may be merged into one notification, which is harmless because frames are delimited by
their length field, never by notifications; a full RX ring drops its oldest packets,
which the host recovers from (docs/ble-protocol.md, "Lost requests").
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
        self.pending = None          # a notification the link could not take yet
        self.buf = bytearray(sp.MAX_REQUEST)
        self.dropping = False
        self.unsent_writes = 0       # writes that returned 0 (not subscribed yet)

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
        self.dropping = False
        self.server.disconnect()

    def _drop(self):
        self.dropping = True
        for c in self.radio.connections:
            try:
                c.disconnect()
            except Exception:   # already going
                pass

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
            self.dropping = False
            self.server.connect()      # _bleio does not tell the peer's address
        if self.dropping:
            return False
        sync = self.sync
        while True:
            n = sync.requests.readinto(self.buf)
            if not n:
                break
            self.server.handle(bytes(self.buf[:n]))
        if self.server.poll() is not None:
            self._drop()
            return False
        try:
            room = sync.frames.outgoing_packet_length
        except ValueError:             # the central has not subscribed to TX yet
            return False
        if room + 3 != self.mtu:
            self.mtu = room + 3
            self.server.set_mtu(self.mtu)
        for _ in range(MAX_FRAMES_PER_SERVICE):
            piece = self.pending if self.pending is not None else self.server.next_piece(room)
            if piece is None:
                return False
            try:
                sent = sync.frames.write(piece)
            except ConnectionError:    # some builds raise where others return 0
                sent = 0
            if not sent:               # nothing went: the same bytes next time
                self.pending = piece
                self.unsent_writes += 1
                return False
            self.pending = None
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
