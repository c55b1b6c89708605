"""MicroPython's ``bluetooth`` module on Google's Bumble, so firmware BLE code runs on CPython.

``install(device)`` binds a powered-on Bumble ``Device`` and puts this module in
``sys.modules["bluetooth"]``; the unchanged ``swrt.ble_mp`` then imports it. The parts
where the ports bite are copied on purpose:

- a characteristic value buffer holds 20 bytes (longer writes are cut) unless
  ``gatts_set_buffer`` enlarges it;
- ``gatts_notify`` raises ``OSError(ENOMEM)`` while the controller queue is full;
- ``gatts_notify`` on a connection that is gone raises ``OSError(ENOTCONN)``;
- ``config(bond=, le_secure=, mitm=, io=)`` sets what Bumble's SMP offers when the
  central pairs, and each encryption change fires ``_IRQ_ENCRYPTION_UPDATE``
  (bond keys stay in Bumble's key store: ``_IRQ_GET_SECRET``/``_IRQ_SET_SECRET`` are
  not emulated).

``LinkFaults`` lets tests drop the link or corrupt a notification at chosen points,
as a radio would, without touching firmware or host code.
"""
import asyncio
import errno
import sys

from bumble import att, gatt
from bumble.core import UUID as _BumbleUUID

FLAG_BROADCAST = 0x0001
FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
FLAG_INDICATE = 0x0020

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_MTU_EXCHANGED = 21
_IRQ_ENCRYPTION_UPDATE = 28

# io= values of BLE.config (MicroPython's _IO_CAPABILITY_*)
_IO_NAMES = ("DISPLAY_OUTPUT_ONLY", "DISPLAY_OUTPUT_AND_YES_NO_INPUT", "KEYBOARD_INPUT_ONLY",
             "NO_OUTPUT_NO_INPUT", "DISPLAY_OUTPUT_AND_KEYBOARD_INPUT")

DEFAULT_VALUE_BUFFER = 20
NOTIFY_QUEUE_PACKETS = 8   # ACL packets waiting for the controller before ENOMEM

_device = None


class UUID:
    """``bluetooth.UUID``: 16-bit int, UUID string, or its little-endian bytes."""

    def __init__(self, value):
        if isinstance(value, UUID):
            self.uuid = value.uuid
        elif isinstance(value, int):
            self.uuid = _BumbleUUID.from_16_bits(value)
        elif isinstance(value, str):
            self.uuid = _BumbleUUID(value)
        else:
            self.uuid = _BumbleUUID.from_bytes(bytes(value))

    def __bytes__(self):
        return bytes(self.uuid)

    def __eq__(self, other):
        return isinstance(other, UUID) and self.uuid == other.uuid

    def __hash__(self):
        return hash(bytes(self.uuid.to_bytes(force_128=True)))

    def __repr__(self):
        return "UUID(%s)" % self.uuid


class LinkFaults:
    """Radio trouble for tests, counted in notifications sent by the device."""

    def __init__(self, drop_at=(), corrupt_at=()):
        self.drop_at = set(drop_at)
        self.corrupt_at = set(corrupt_at)
        self.sniffed = None     # a list to keep every notification, as a sniffer would
        self.sent = 0
        self.dropped = 0
        self.corrupted = 0


class _Value:
    def __init__(self, char):
        self.char = char
        self.data = b""
        self.size = DEFAULT_VALUE_BUFFER
        self.append = False


class BLE:
    """``bluetooth.BLE()`` bound to the installed Bumble device."""

    def __init__(self):
        if _device is None:
            raise OSError(errno.ENODEV, "no Bumble device installed (mpbluetooth.install)")
        self.device = _device
        self._active = False
        self._irq = None
        self._values = {}
        self._conns = {}
        self._tasks = set()
        self.faults = LinkFaults()
        self.notify_enomem = 0
        self.att_bytes_out = 0   # notification PDUs, headers included
        self.att_bytes_in = 0    # write PDUs received, headers included
        self.largest_notify = 0
        self.sniffed_writes = None   # a list to keep every write, as a sniffer would
        self.security = {"bond": False, "le_secure": False, "mitm": False, "io": 3}
        self.device.on(self.device.EVENT_CONNECTION, self._on_connection)

    # -- plumbing
    def _spawn(self, coro):
        task = asyncio.get_event_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _fire(self, event, data):
        if self._irq is not None:
            self._irq(event, data)

    def _on_connection(self, connection):
        h = connection.handle
        self._conns[h] = connection
        addr = connection.peer_address
        connection.on(connection.EVENT_DISCONNECTION, lambda *_: self._on_disconnection(h, addr))
        connection.on(connection.EVENT_CONNECTION_ATT_MTU_UPDATE,
                      lambda *_: self._fire(_IRQ_MTU_EXCHANGED, (h, connection.att_mtu)))
        plain = str(addr)
        connection.on(connection.EVENT_PAIRING, lambda keys: self._spawn(self._keep_bond(plain, keys)))
        connection.on(connection.EVENT_CONNECTION_ENCRYPTION_CHANGE,
                      lambda *_: self._fire(_IRQ_ENCRYPTION_UPDATE, (
                          h, connection.is_encrypted, connection.authenticated,
                          bool(self.security["bond"] and connection.is_encrypted), connection.encryption_key_size)))
        self._fire(_IRQ_CENTRAL_CONNECT, (h, int(addr.address_type) & 1, bytes(addr.address_bytes)))

    def _on_disconnection(self, h, addr):
        if self._conns.pop(h, None) is not None:
            self._fire(_IRQ_CENTRAL_DISCONNECT, (h, int(addr.address_type) & 1, bytes(addr.address_bytes)))

    # -- the MicroPython API
    def active(self, value=None):
        if value is not None:
            self._active = bool(value)
        return self._active

    def irq(self, handler):
        self._irq = handler

    def config(self, *names, **values):
        for k, v in values.items():
            if k == "gap_name":
                self.device.name = v
            elif k == "mtu":
                if not 23 <= v <= 517:
                    raise ValueError("mtu out of range")
                self.device.gatt_server.max_mtu = v
            elif k in self.security:
                self.security[k] = v if k == "io" else bool(v)
                self._pairing_config()
            else:
                raise ValueError("unknown config param %s" % k)
        if names:
            k = names[0]
            if k == "gap_name":
                return self.device.name
            if k == "mtu":
                return self.device.gatt_server.max_mtu
            if k == "mac":
                a = self.device.random_address
                return (1, bytes(reversed(a.address_bytes)))
            raise ValueError("unknown config param %s" % k)
        return None

    def gap_advertise(self, interval_us, adv_data=None, *, resp_data=None, connectable=True):
        async def go():
            if self.device.is_advertising:
                await self.device.stop_advertising()
            if interval_us is None:
                return
            await self.device.start_advertising(
                advertising_data=bytes(adv_data or b""), scan_response_data=bytes(resp_data or b""),
                advertising_interval_min=max(20.0, interval_us / 1000),
                advertising_interval_max=max(20.0, interval_us / 1000))
        self._spawn(go())

    async def _keep_bond(self, plain_address, keys):
        # Bumble files the keys under the central's identity address (with its type) but
        # looks them up by the plain address when the bonded central encrypts again.
        if self.device.keystore is not None and keys is not None:
            await self.device.keystore.update(plain_address, keys)

    def _pairing_config(self):
        from bumble.pairing import PairingConfig, PairingDelegate
        sec = dict(self.security)
        io = getattr(PairingDelegate.IoCapability, _IO_NAMES[sec["io"]])
        self.device.pairing_config_factory = lambda _conn: PairingConfig(
            sc=sec["le_secure"], mitm=sec["mitm"], bonding=sec["bond"], delegate=PairingDelegate(io_capability=io))

    def gap_pair(self, conn_handle):
        conn = self._conns.get(conn_handle)
        if conn is None:
            raise OSError(errno.ENOTCONN)
        self._spawn(conn.pair())

    def gap_disconnect(self, conn_handle):
        conn = self._conns.get(conn_handle)
        if conn is None:
            return False
        self._spawn(conn.disconnect())
        return True

    def gattc_exchange_mtu(self, conn_handle):
        conn = self._conns.get(conn_handle)
        if conn is None:
            raise OSError(errno.ENOTCONN)

        async def go():
            try:
                await conn.gatt_client.request_mtu(self.device.gatt_server.max_mtu)
                self._fire(_IRQ_MTU_EXCHANGED, (conn_handle, conn.att_mtu))
            except Exception:
                pass  # link gone, or the peer refused: stays at the current MTU
        self._spawn(go())

    def gatts_register_services(self, services):
        out = []
        for service_uuid, chars in services:
            made = []
            for spec in chars:
                uuid, flags = spec[0], spec[1]
                value = _Value(None)
                char = gatt.Characteristic(
                    UUID(uuid).uuid, gatt.Characteristic.Properties(flags & 0x3F),
                    att.Attribute.READABLE | att.Attribute.WRITEABLE,
                    gatt.CharacteristicValue(read=lambda conn, v=value: v.data,
                                             write=lambda conn, data, v=value: self._written(conn, v, data)))
                value.char = char
                made.append((char, value))
            self.device.add_service(gatt.Service(UUID(service_uuid).uuid, [c for c, _ in made]))
            handles = []
            for char, value in made:
                self._values[char.handle] = value
                handles.append(char.handle)
            out.append(tuple(handles))
        return tuple(out)

    def _written(self, conn, value, data):
        data = bytes(data)
        self.att_bytes_in += 3 + len(data)
        if self.sniffed_writes is not None:
            self.sniffed_writes.append(data)
        if value.append:
            value.data = (value.data + data)[:value.size]
        else:
            value.data = data[:value.size]  # the port cuts what does not fit
        self._fire(_IRQ_GATTS_WRITE, (conn.handle, value.char.handle))

    def gatts_read(self, value_handle):
        v = self._values[value_handle]
        data = v.data
        if v.append:
            v.data = b""
        return data

    def gatts_write(self, value_handle, data, send_update=False):
        v = self._values[value_handle]
        v.data = bytes(data)[:max(v.size, len(data))]
        if send_update:
            for h in list(self._conns):
                try:
                    self.gatts_notify(h, value_handle)
                except OSError:
                    pass

    def gatts_set_buffer(self, value_handle, length, append=False):
        v = self._values[value_handle]
        v.size = length
        v.append = append

    def gatts_notify(self, conn_handle, value_handle, data=None):
        conn = self._conns.get(conn_handle)
        if conn is None:
            raise OSError(errno.ENOTCONN)
        queue = self.device.host.le_acl_packet_queue or self.device.host.acl_packet_queue
        if queue is not None and queue.pending >= NOTIFY_QUEUE_PACKETS:
            self.notify_enomem += 1
            raise OSError(errno.ENOMEM)
        value = self._values[value_handle].data if data is None else bytes(data)
        value = value[:conn.att_mtu - 3]
        f = self.faults
        f.sent += 1
        if f.sent in f.corrupt_at:
            f.corrupted += 1
            tampered = bytearray(value)
            tampered[-1] ^= 0x5A
            value = bytes(tampered)
        if f.sniffed is not None:
            f.sniffed.append(value)
        pdu = att.ATT_Handle_Value_Notification(attribute_handle=value_handle, attribute_value=value)
        self.device.gatt_server.send_gatt_pdu(conn, bytes(pdu))
        self.att_bytes_out += 3 + len(value)
        self.largest_notify = max(self.largest_notify, len(value))
        if f.sent in f.drop_at:
            f.dropped += 1
            del self._conns[conn_handle]   # gone for the firmware right away, as on a port
            self._spawn(self._drop(conn, conn_handle))

    async def _drop(self, conn, h):
        try:
            await conn.disconnect()
        except Exception:
            pass
        self._fire(_IRQ_CENTRAL_DISCONNECT, (h, int(conn.peer_address.address_type) & 1,
                                             bytes(conn.peer_address.address_bytes)))


def install(device):
    """Bind ``device`` and make ``import bluetooth`` give this module."""
    global _device
    _device = device
    sys.modules["bluetooth"] = sys.modules[__name__]
