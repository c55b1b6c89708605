"""The sync service on MicroPython's ``bluetooth`` module (ESP32, RP2 W, unix with BTstack).

GATT: the sync service (RX write, TX notify; see docs/ble-protocol.md), Device
Information (0x180A) and Battery (0x180F). Requests are handled in the IRQ; the frames
they produce leave as a byte stream cut into notifications of MTU - 3 bytes by
``service()``, which the app calls often. A full controller queue (OSError ENOMEM)
keeps the same bytes for the next call; any other failure to notify means the peer is
gone and the connection state is dropped. ``service()`` also drops a connection the
server says to (not authenticated in time, idle, failed handshakes).
"""
import bluetooth

from swcore import syncproto as sp
from swrt.syncfiles import KEY_FILE, load_key, plan_installer, start_service  # noqa: F401 (callers use them from here)

TYPE_CHECKING = False
if TYPE_CHECKING:                       # make typecheck: the port's own bluetooth.BLE
    from swcore.syncproto import SyncServer

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_MTU_EXCHANGED = const(21)
_IRQ_ENCRYPTION_UPDATE = const(28)
_IRQ_GET_SECRET = const(29)
_IRQ_SET_SECRET = const(30)
_IO_NO_INPUT_OUTPUT = const(3)
MAX_SECRETS = const(16)       # bond keys kept in RAM (a reboot forgets them: the central pairs again)

_FLAG_READ = const(0x0002)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)

_ENOMEM = const(12)
PREFERRED_MTU = const(517)      # the peer's limit wins in the exchange
ADV_INTERVAL_US = const(250000)
MAX_FRAMES_PER_SERVICE = const(16)

_DIS = (bluetooth.UUID(0x180A), (
    (bluetooth.UUID(0x2A29), _FLAG_READ),   # manufacturer name
    (bluetooth.UUID(0x2A24), _FLAG_READ),   # model number
    (bluetooth.UUID(0x2A25), _FLAG_READ),   # serial number (the sync device id)
    (bluetooth.UUID(0x2A26), _FLAG_READ),   # firmware revision
))
_BAS = (bluetooth.UUID(0x180F), (
    (bluetooth.UUID(0x2A19), _FLAG_READ | _FLAG_NOTIFY),  # battery level %
))
_SYNC = (bluetooth.UUID(sp.SERVICE_UUID), (
    (bluetooth.UUID(sp.RX_UUID), _FLAG_WRITE),
    (bluetooth.UUID(sp.TX_UUID), _FLAG_NOTIFY),
))


IDLE_MS = const(20)


def start_sync(store, root="", name="Sprintwatch", model="Sprintwatch", firmware="0",
               battery=None, random=None):
    """Build and start the sync service for ``store``; returns the SyncPeripheral
    (see ``swrt.syncfiles.start_service``). Run ``peripheral.run()`` as an asyncio task."""
    return start_service(SyncPeripheral, store, root, name, model, firmware, battery, random)


def advertising_payload(name, service_uuid):
    # type: (str, str) -> tuple[bytes, bytes]
    """``(adv_data, scan_response)``: flags + 128-bit service UUID (string), then the name."""
    adv = bytearray(b"\x02\x01\x06")
    u = sp.uuid_bytes(service_uuid)
    adv += bytes((len(u) + 1, 0x07)) + u
    n = name.encode()[:29]
    resp = bytes((len(n) + 1, 0x09)) + n
    return bytes(adv), resp


class SyncPeripheral:
    """Serves one ``SyncServer`` over BLE, one central at a time."""

    def __init__(self, server, name="Sprintwatch", model="Sprintwatch", firmware="0", ble=None):
        # type: (SyncServer, str, str, str, bluetooth.BLE | None) -> None
        self.server = server
        self.name = name
        self.model = model
        self.firmware = firmware
        self.ble = ble if ble is not None else bluetooth.BLE()
        self.conn = None  # type: int | None
        self.pending = None     # a frame the controller had no room for
        self.notify_retries = 0
        self.handles = None
        self.dropping = False   # a disconnect asked for, not yet confirmed
        self.link_security = None   # (encrypted, authenticated, bonded, key size) of this link
        self.secrets = {}

    def start(self, battery_pct=None):
        ble = self.ble
        ble.active(True)
        ble.config(gap_name=self.name)
        try:
            ble.config(mtu=PREFERRED_MTU)
        except (ValueError, OSError):
            pass  # a port with a fixed MTU
        try:
            # LE Secure Connections bonding when the central asks (Just Works: no screen
            # to show a passkey). Under the protocol's own sealing, not instead of it.
            ble.config(bond=True, le_secure=True, mitm=False, io=_IO_NO_INPUT_OUTPUT)
        except (ValueError, OSError, TypeError):
            pass  # a port built without pairing support
        ble.irq(self._irq)
        dis, bas, sync = ble.gatts_register_services((_DIS, _BAS, _SYNC))
        self.handles = (dis, bas, sync)
        device_id = self.server.key[0] if self.server.key else ""
        for h, v in zip(dis, ("Sprintwatch", self.model, device_id, self.firmware)):
            ble.gatts_write(h, v.encode())
        self.set_battery(battery_pct)
        self.rx, self.tx = sync
        # Requests are longer than the 20-byte default value buffer.
        ble.gatts_set_buffer(self.rx, sp.MAX_REQUEST, False)
        self._advertise()

    def set_battery(self, pct):
        if pct is not None and self.handles is not None:
            self.ble.gatts_write(self.handles[1][0], bytes((max(0, min(100, int(pct))),)))

    def _advertise(self):
        adv, resp = advertising_payload(self.name, sp.SERVICE_UUID)
        self.ble.gap_advertise(ADV_INTERVAL_US, adv_data=adv, resp_data=resp, connectable=True)

    def _irq(self, event, data):
        if event == _IRQ_CENTRAL_CONNECT:
            self.conn = data[0]
            self.pending = None
            self.dropping = False
            if not self.server.connect(peer=bytes(data[2])):
                self._drop()          # a peer in the penalty box: let the owner in
                return
            try:
                self.ble.gattc_exchange_mtu(self.conn)
            except (OSError, AttributeError):
                pass  # the central will ask, or we stay at 23
        elif event == _IRQ_CENTRAL_DISCONNECT:
            self._lost()
            self._advertise()
        elif event == _IRQ_GATTS_WRITE:
            conn, handle = data[0], data[1]
            if conn == self.conn and handle == self.rx:
                self.server.handle(self.ble.gatts_read(self.rx))
        elif event == _IRQ_MTU_EXCHANGED:
            if data[0] == self.conn:
                self.server.set_mtu(data[1])
        elif event == _IRQ_ENCRYPTION_UPDATE:
            if data[0] == self.conn:
                self.link_security = (bool(data[1]), bool(data[2]), bool(data[3]), data[4])
                self.server.info["link_encrypted"] = bool(data[1])
        elif event == _IRQ_GET_SECRET:     # (sec_type, index, key or None)
            if data[2] is None:
                found = [v for k, v in self.secrets.items() if k[0] == data[0]]
                return found[data[1]] if data[1] < len(found) else None
            return self.secrets.get((data[0], bytes(data[2])))
        elif event == _IRQ_SET_SECRET:     # (sec_type, key, value or None to delete)
            key = (data[0], bytes(data[1]))
            if data[2] is None:
                self.secrets.pop(key, None)
            elif key in self.secrets or len(self.secrets) < MAX_SECRETS:
                self.secrets[key] = bytes(data[2])
            else:
                return False
            return True

    def _lost(self):
        self.conn = None
        self.pending = None
        self.dropping = False
        self.link_security = None
        self.server.info.pop("link_encrypted", None)
        self.server.disconnect()

    def _drop(self):
        if self.conn is not None and not self.dropping:
            self.dropping = True
            try:
                self.ble.gap_disconnect(self.conn)  # pyright: ignore[reportArgumentType]  (an int, as documented; the stubs say memoryview)
            except OSError:
                self._lost()

    def service(self):
        """Send what is ready, up to a few notifications. True when more is waiting."""
        if self.conn is not None and not self.dropping and self.server.poll() is not None:
            self._drop()
        for _ in range(MAX_FRAMES_PER_SERVICE):
            if self.conn is None or self.dropping:
                return False
            piece = self.pending if self.pending is not None else self.server.next_piece()
            if piece is None:
                return False
            try:
                self.ble.gatts_notify(self.conn, self.tx, piece)
                self.pending = None
            except OSError as e:
                self.pending = piece       # not sent: the same bytes next time
                if e.args and e.args[0] == _ENOMEM:
                    self.notify_retries += 1
                    return True
                self._lost()               # the peer went away under us
                return False
        return True

    async def run(self):
        """The board's asyncio task: send as fast as the controller takes, idle slowly."""
        import asyncio
        sleep_ms = getattr(asyncio, "sleep_ms", None)
        while True:
            more = self.service()
            if sleep_ms is not None:
                await sleep_ms(0 if more else IDLE_MS)
            else:
                await asyncio.sleep(0 if more else IDLE_MS / 1000)
