"""CircuitPython's ``_bleio`` (peripheral role) on Google's Bumble, so ``adafruit_ble`` runs here.

``install(device)`` binds a powered-on Bumble ``Device``, makes ``_bleio.adapter`` its
adapter and puts this module in ``sys.modules["_bleio"]``; the unchanged
``adafruit_ble`` library (from ``.cplib/``) and ``swrt.ble_cp`` then run on CPython,
each call going over a real Bluetooth stack. Where CircuitPython is known to bite,
this layer does the same:

- a write longer than a characteristic's ``max_length`` is refused (ATT error);
- a ``PacketBuffer``'s incoming ring holds ``buffer_size * (2 + max_packet_size)``
  bytes; a packet that does not fit pushes the *oldest* packets out (the write was
  already acknowledged to the central: lost without a word), counted in ``dropped``;
- ``PacketBuffer.write`` returns 0 and sends nothing until the central has written
  the CCCD (and once the link is gone); ``outgoing_packet_length`` raises
  ``ValueError`` until then; a packet longer than it raises ``ValueError``;
- while a notification is in flight, later ``write`` calls are appended to one
  pending packet as long as they fit: consecutive small writes merge into one
  notification (sent when the stack reports the first one done);
- connectable advertising stops when a central connects; starting it twice raises;
- the ATT MTU is at most ``MAX_MTU`` (247, assumed for the nRF52840 builds).

``LinkFaults`` (same fields as ``host_tools.mpbluetooth``'s) drops the link or
corrupts a notification at chosen points, as a radio would.
"""
import asyncio
import sys
from collections import deque

from bumble import att, gatt
from bumble.core import UUID as _BumbleUUID

MAX_MTU = 247
adapter = None


class BluetoothError(Exception):
    pass


class RoleError(BluetoothError):
    pass


class SecurityError(BluetoothError):
    pass


class LinkFaults:
    """Radio trouble for tests, counted in notifications sent by the device."""

    def __init__(self, drop_at=(), corrupt_at=()):
        self.drop_at = set(drop_at)
        self.corrupt_at = set(corrupt_at)
        self.sent = 0
        self.dropped = 0
        self.corrupted = 0
        self.sniffed = None


class UUID:
    """``_bleio.UUID``: a 16-bit int, a UUID string, or 16 little-endian bytes."""

    def __init__(self, value):
        if isinstance(value, UUID):
            self._u, self.size = value._u, value.size
        elif isinstance(value, int):
            if not 0 <= value <= 0xFFFF:
                raise ValueError("UUID integer value must be 0-0xffff")
            self._u, self.size = _BumbleUUID.from_16_bits(value), 16
        elif isinstance(value, str):
            self._u, self.size = _BumbleUUID(value), 128
        else:
            b = bytes(value)
            if len(b) != 16:
                raise ValueError("Byte buffer must be 16 bytes.")
            self._u, self.size = _BumbleUUID.from_bytes(b), 128

    @property
    def uuid16(self):
        b = self._u.to_bytes(force_128=True)
        return b[12] | (b[13] << 8)

    @property
    def uuid128(self):
        if self.size != 128:
            raise ValueError("This is not a 128-bit UUID")
        return bytes(self._u.to_bytes(force_128=True))

    def pack_into(self, buffer, offset=0):
        b = self._u.to_bytes(force_128=True) if self.size == 128 else bytes((self.uuid16 & 0xFF, self.uuid16 >> 8))
        buffer[offset:offset + len(b)] = b

    def __eq__(self, other):
        return isinstance(other, UUID) and self._u.to_bytes(force_128=True) == other._u.to_bytes(force_128=True)

    def __hash__(self):
        return hash(bytes(self._u.to_bytes(force_128=True)))

    def __str__(self):
        return str(self._u)

    __repr__ = __str__


class Address:
    PUBLIC = 0
    RANDOM_STATIC = 1
    RANDOM_PRIVATE_RESOLVABLE = 2
    RANDOM_PRIVATE_NON_RESOLVABLE = 3

    def __init__(self, address, address_type):
        self.address_bytes = bytes(address)
        self.type = address_type

    def __eq__(self, other):
        return isinstance(other, Address) and self.address_bytes == other.address_bytes

    def __hash__(self):
        return hash(self.address_bytes)


class Attribute:
    NO_ACCESS = 0x00
    OPEN = 0x01
    ENCRYPT_NO_MITM = 0x02
    ENCRYPT_WITH_MITM = 0x03
    LESC_ENCRYPT_WITH_MITM = 0x04
    SIGNED_NO_MITM = 0x05
    SIGNED_WITH_MITM = 0x06


class Service:
    def __init__(self, uuid, *, secondary=False):
        if adapter is None:
            raise BluetoothError("BLE is not enabled")
        self.uuid = uuid
        self.secondary = secondary
        self.remote = False
        self._chars = []
        adapter._services.append(self)

    @property
    def characteristics(self):
        return tuple(self._chars)

    def deinit(self):
        pass


def _perm(read_perm, write_perm):
    p = 0
    if read_perm != Attribute.NO_ACCESS:
        p |= att.Attribute.READABLE if read_perm == Attribute.OPEN else att.Attribute.READ_REQUIRES_ENCRYPTION
    if write_perm != Attribute.NO_ACCESS:
        p |= att.Attribute.WRITEABLE if write_perm == Attribute.OPEN else att.Attribute.WRITE_REQUIRES_ENCRYPTION
    return p


def _buffer(data):
    """bytes of a ReadableBuffer; a str counts as one on CircuitPython (its UTF-8 bytes)."""
    return data.encode() if isinstance(data, str) else bytes(data)


class Characteristic:
    BROADCAST = 0x01
    READ = 0x02
    WRITE_NO_RESPONSE = 0x04
    WRITE = 0x08
    NOTIFY = 0x10
    INDICATE = 0x20

    def __init__(self):
        raise TypeError("use Characteristic.add_to_service")

    @classmethod
    def add_to_service(cls, service, uuid, *, properties=0, read_perm=Attribute.OPEN,
                       write_perm=Attribute.OPEN, max_length=20, fixed_length=False,
                       initial_value=None, user_description=None):
        if service._registered:
            raise BluetoothError("the service is registered already: add characteristics first")
        if not 0 <= max_length <= 512:
            raise ValueError("max_length must be 0-512")
        c = cls.__new__(cls)
        c.service = service
        c.uuid = uuid
        c.properties = properties
        c.max_length = max_length
        c.fixed_length = fixed_length
        c._value = _buffer(initial_value) if initial_value is not None else bytes(max_length if fixed_length else 0)
        c._buffers = []
        c.descriptors = ()
        c._bumble = gatt.Characteristic(
            uuid._u, gatt.Characteristic.Properties(properties & 0x3F), _perm(read_perm, write_perm),
            gatt.CharacteristicValue(read=lambda conn: c._value, write=c._written))
        service._chars.append(c)
        return c

    def _written(self, conn, data):
        data = bytes(data)
        if len(data) > self.max_length or (self.fixed_length and len(data) != self.max_length):
            raise att.ATT_Error(att.ATT_INVALID_ATTRIBUTE_LENGTH_ERROR)
        self._value = data
        adapter.att_bytes_in += 3 + len(data)
        for b in self._buffers:
            b._incoming(data)

    @property
    def value(self):
        return self._value

    @value.setter
    def value(self, data):
        data = _buffer(data)
        if len(data) > self.max_length:
            raise ValueError("Value length > max_length")
        self._value = data
        if self.properties & (self.NOTIFY | self.INDICATE):
            for conn in adapter._subscribers(self):
                adapter._notify(conn, self, data[:conn.att_mtu - 3])

    def set_cccd(self, *, notify=False, indicate=False):
        raise RoleError("only for a remote characteristic")

    def deinit(self):
        pass


Service._registered = False


class PacketBuffer:
    """Packets written by the central into a FIFO; notifications out, one packet each."""

    def __init__(self, characteristic, *, buffer_size, max_packet_size=None):
        self.characteristic = characteristic
        self.max_packet_size = min(max_packet_size or characteristic.max_length, 512 - 3)
        self._in = deque()
        self._capacity = buffer_size * (2 + self.max_packet_size)
        self._filled = 0
        self.dropped = 0
        self._pending = b""          # appended to while a notification is in flight
        self._in_flight = False
        self.merged = 0              # writes that went out inside another's notification
        characteristic._buffers.append(self)

    def _incoming(self, data):
        need = 2 + len(data)
        if need > self._capacity:
            return
        while self._capacity - self._filled < need:   # the C code drops the oldest first
            old = self._in.popleft()
            self._filled -= 2 + len(old)
            self.dropped += 1
        self._in.append(data)
        self._filled += need

    def readinto(self, buf):
        if not self._in:
            return 0
        data = self._in[0]
        if len(data) > len(buf):
            raise ValueError("Buffer too short by %d bytes" % (len(data) - len(buf)))
        self._in.popleft()
        self._filled -= 2 + len(data)
        buf[:len(data)] = data
        return len(data)

    def _conn(self):
        subs = adapter._subscribers(self.characteristic)
        return subs[0] if subs else None

    def write(self, data, *, header=None):
        conn = self._conn()
        if conn is None:
            return 0                 # not subscribed (or gone): nothing sent
        room = self.outgoing_packet_length
        data = bytes(data)
        head = bytes(header or b"")
        if len(head) + len(data) > room:
            raise ValueError("Total data to write is larger than outgoing_packet_length")
        if not self._in_flight:
            packet = head + data
            self._send(conn, packet)
            return len(packet)
        if len(self._pending) + len(data) > room:
            # The C code waits for the pending packet to go; the emulation sends it now.
            self._send(conn, self._pending)
            self._pending = b""
        if self._pending:
            self.merged += 1
            self._pending += data
            return len(data)
        self._pending = head + data
        return len(self._pending)

    def _send(self, conn, packet):
        self._in_flight = True
        adapter._notify(conn, self.characteristic, packet)
        asyncio.get_event_loop().call_soon(self._tx_complete)

    def _tx_complete(self):
        # BLE_GATTS_EVT_HVN_TX_COMPLETE: the pending packet (if any) goes next.
        self._in_flight = False
        if self._pending:
            conn = self._conn()
            packet, self._pending = self._pending, b""
            if conn is not None:
                self._send(conn, packet)

    @property
    def incoming_packet_length(self):
        return self.characteristic.max_length

    @property
    def outgoing_packet_length(self):
        conn = self._conn()
        if conn is None:
            raise ValueError("No connection: length cannot be determined")
        return min(conn.att_mtu - 3, self.max_packet_size, self.characteristic.max_length)

    def deinit(self):
        if self in self.characteristic._buffers:
            self.characteristic._buffers.remove(self)


class Connection:
    def __init__(self, bumble_connection):
        self._c = bumble_connection
        self.connected = True
        self.paired = False

    def disconnect(self):
        if self.connected:
            adapter._spawn(self._c.disconnect())

    def pair(self, *, bond=True):
        raise SecurityError("pairing is not emulated")

    @property
    def connection_interval(self):
        return 7.5

    @property
    def max_packet_length(self):
        return self._c.att_mtu - 3


class Adapter:
    def __init__(self, device):
        self.device = device
        self.enabled = True
        a = device.public_address if device.public_address else device.random_address
        self.address = Address(bytes(a.address_bytes), Address.PUBLIC)
        self._name = "CIRCUITPY%02x%02x" % (self.address.address_bytes[1], self.address.address_bytes[0])
        self._services = []
        self._connections = []
        self._advertising = False
        self._tasks = set()
        self._subs = {}              # (connection handle, characteristic handle) -> bool
        self.faults = LinkFaults()
        self.att_bytes_out = 0
        self.att_bytes_in = 0
        self.largest_notify = 0
        device.gatt_server.max_mtu = MAX_MTU
        device.on(device.EVENT_CONNECTION, self._on_connection)
        device.on("characteristic_subscription", self._on_subscription)

    # -- plumbing
    def _spawn(self, coro):
        task = asyncio.get_event_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _register_services(self):
        for s in self._services:
            if not s._registered:
                self.device.add_service(gatt.Service(s.uuid._u, [c._bumble for c in s._chars]))
                s._registered = True

    def _on_connection(self, bumble_connection):
        conn = Connection(bumble_connection)
        self._connections.append(conn)
        self._advertising = False                  # connectable advertising ends here
        bumble_connection.on(bumble_connection.EVENT_DISCONNECTION, lambda *_: self._lost(conn))

    def _lost(self, conn):
        conn.connected = False
        if conn in self._connections:
            self._connections.remove(conn)
        h = conn._c.handle
        for key in [k for k in self._subs if k[0] == h]:
            del self._subs[key]

    def _on_subscription(self, connection, characteristic, notify_enabled, indicate_enabled):
        self._subs[(connection.handle, characteristic.handle)] = bool(notify_enabled or indicate_enabled)

    def _first_connection(self):
        return self._connections[0]._c if self._connections else None

    def _subscribers(self, characteristic):
        h = characteristic._bumble.handle
        return [c._c for c in self._connections if self._subs.get((c._c.handle, h))]

    def _notify(self, conn, characteristic, value):
        f = self.faults
        f.sent += 1
        if f.sent in f.corrupt_at:
            f.corrupted += 1
            tampered = bytearray(value)
            tampered[-1] ^= 0x5A
            value = bytes(tampered)
        if f.sniffed is not None:
            f.sniffed.append(value)
        pdu = att.ATT_Handle_Value_Notification(attribute_handle=characteristic._bumble.handle,
                                                attribute_value=value)
        self.device.gatt_server.send_gatt_pdu(conn, bytes(pdu))
        self.att_bytes_out += 3 + len(value)
        self.largest_notify = max(self.largest_notify, len(value))
        if f.sent in f.drop_at:
            f.dropped += 1
            for c in list(self._connections):
                if c._c is conn:
                    self._lost(c)                  # gone for the firmware right away
            self._spawn(self._drop(conn))

    async def _drop(self, conn):
        try:
            await conn.disconnect()
        except Exception:
            pass

    # -- the CircuitPython API
    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, value):
        self._name = value
        self.device.name = value

    @property
    def advertising(self):
        return self._advertising

    @property
    def connected(self):
        return bool(self._connections)

    @property
    def connections(self):
        return tuple(self._connections)

    def start_advertising(self, data, *, scan_response=None, connectable=True, anonymous=False,
                          timeout=0, interval=0.1, tx_power=0, directed_to=None):
        if self._advertising:
            raise BluetoothError("Already advertising.")
        if len(bytes(data)) > 31:
            raise BluetoothError("extended advertising is not emulated (data over 31 bytes)")
        self._register_services()
        self._advertising = True

        async def go():
            if self.device.is_advertising:
                await self.device.stop_advertising()
            await self.device.start_advertising(
                advertising_data=bytes(data), scan_response_data=bytes(scan_response or b""),
                advertising_interval_min=max(20.0, interval * 1000),
                advertising_interval_max=max(20.0, interval * 1000))
        self._spawn(go())

    def stop_advertising(self):
        self._advertising = False

        async def go():
            if self.device.is_advertising:
                await self.device.stop_advertising()
        self._spawn(go())

    def erase_bonding(self):
        pass


def set_adapter(new_adapter):
    global adapter
    adapter = new_adapter


def install(device):
    """Bind ``device`` and make ``import _bleio`` give this module; returns the adapter."""
    global adapter
    adapter = Adapter(device)
    sys.modules["_bleio"] = sys.modules[__name__]
    return adapter
