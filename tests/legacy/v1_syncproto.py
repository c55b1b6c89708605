"""Sprintwatch 0.1's sync protocol (version 1), kept unchanged to test what a new laptop
sees when it meets an old device (and an old laptop a new one)."""

import json
import struct

try:
    from binascii import crc32 as _crc32
except ImportError:  # a port without binascii.crc32
    _crc32 = None
from swcore.logformat import sha256 as _sha256  # the firmware's one SHA-256 provider

PROTO_VERSION = 1

SERVICE_UUID = "5a0d0001-8f3e-4c1a-9b6e-53707277a7c1"
RX_UUID = "5a0d0002-8f3e-4c1a-9b6e-53707277a7c1"   # host writes requests here
TX_UUID = "5a0d0003-8f3e-4c1a-9b6e-53707277a7c1"   # device notifies responses and data

# Request opcodes
OP_INFO = 0x01          # no auth: device id, name, firmware, provisioned
OP_AUTH_BEGIN = 0x02    # host nonce -> device nonce + device proof
OP_AUTH_PROVE = 0x03    # host proof
OP_LIST = 0x10          # sessions newer than an id: (id, size, digest)
OP_READ = 0x11          # stream a session from an offset
OP_ACK = 0x12           # the host has stored a session
OP_SET_CLOCK = 0x20     # unix seconds
OP_STATUS = 0x21        # device and storage status (JSON)
OP_PLAN_BEGIN = 0x30    # plan size + crc32
OP_PLAN_DATA = 0x31     # plan bytes at an offset
OP_PLAN_COMMIT = 0x32   # validate with swcore.plan and install
DATA = 0x40             # notification kind: a chunk of a READ stream
RESPONSE = 0x80         # response op = request op | RESPONSE

OPS = (OP_INFO, OP_AUTH_BEGIN, OP_AUTH_PROVE, OP_LIST, OP_READ, OP_ACK, OP_SET_CLOCK,
       OP_STATUS, OP_PLAN_BEGIN, OP_PLAN_DATA, OP_PLAN_COMMIT)
NO_AUTH_OPS = (OP_INFO, OP_AUTH_BEGIN, OP_AUTH_PROVE)

# Status codes
OK = 0
E_MALFORMED = 1
E_UNKNOWN_OP = 2
E_AUTH_REQUIRED = 3
E_AUTH_FAILED = 4
E_OUT_OF_ORDER = 5
E_NOT_FOUND = 6
E_RANGE = 7
E_TOO_LARGE = 8
E_BAD_PLAN = 9
E_CRC = 10
E_NOT_PROVISIONED = 11
E_STORAGE = 12
E_INTERNAL = 13
E_LOCKED = 14

STATUS_NAMES = {
    OK: "ok", E_MALFORMED: "malformed", E_UNKNOWN_OP: "unknown-op",
    E_AUTH_REQUIRED: "auth-required", E_AUTH_FAILED: "auth-failed",
    E_OUT_OF_ORDER: "out-of-order", E_NOT_FOUND: "not-found", E_RANGE: "range",
    E_TOO_LARGE: "too-large", E_BAD_PLAN: "bad-plan", E_CRC: "crc-mismatch",
    E_NOT_PROVISIONED: "not-provisioned", E_STORAGE: "storage", E_INTERNAL: "internal",
    E_LOCKED: "locked",
}

REQ_HEADER = 4
RESP_HEADER = 4
DATA_HEADER = 10
MAX_REQUEST = 512        # header included; the RX value buffer is set to this size
MAX_PLAN = 8192
MAX_LIST = 64            # entries per LIST reply; the host asks again after the last id
NONCE_LEN = 16
MAC_LEN = 32
KEY_LEN = 32
MAX_AUTH_FAILS = 3       # per connection; then AUTH_* answers E_LOCKED until reconnect
DEFAULT_MTU = 23

DEV_LABEL = b"sprintwatch-device-v1"
HOST_LABEL = b"sprintwatch-host-v1"
SESSION_LABEL = b"sprintwatch-session-v1"
KS_BLOCK = 32


class ProtocolError(Exception):
    """A frame that does not follow the protocol (host side decoding)."""


# ---------------------------------------------------------------- checksums, HMAC

def _crc32_soft(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def crc32(data, crc=0):
    """CRC-32 (zlib/IEEE), the checksum of sessions, chunks and plans."""
    if _crc32 is not None:
        return _crc32(data, crc) & 0xFFFFFFFF
    return _crc32_soft(data, crc)


def hmac_sha256(key, msg):
    """HMAC-SHA256 (RFC 2104) over SHA-256 (hashlib's, or swcore.sha256 where a port has
    none); MicroPython has no hmac module."""
    block = 64
    if len(key) > block:
        key = _sha256(key).digest()
    key = bytes(key) + bytes(block - len(key))
    inner = _sha256(bytes(b ^ 0x36 for b in key))
    inner.update(msg)
    outer = _sha256(bytes(b ^ 0x5C for b in key))
    outer.update(inner.digest())
    return outer.digest()


def device_proof(key, host_nonce, device_nonce):
    return hmac_sha256(key, DEV_LABEL + host_nonce + device_nonce)


def host_proof(key, host_nonce, device_nonce):
    return hmac_sha256(key, HOST_LABEL + device_nonce + host_nonce)


def session_key(key, host_nonce, device_nonce):
    """The per-connection key that encrypts session bytes in DATA frames."""
    return hmac_sha256(key, SESSION_LABEL + host_nonce + device_nonce)


def crypt(skey, sid, offset, data):
    """XOR ``data`` (session ``sid`` from ``offset``) with the keystream
    SHA256(skey || sid u32 || block u32) per 32-byte block: encrypts and decrypts."""
    out = bytearray(data)
    n = len(out)
    i = 0
    while i < n:
        pos = offset + i
        block = pos // KS_BLOCK
        ks = _sha256(skey + struct.pack("<II", sid, block)).digest()
        j = pos - block * KS_BLOCK
        while j < KS_BLOCK and i < n:
            out[i] ^= ks[j]
            i += 1
            j += 1
    return bytes(out)


def same_bytes(a, b):
    """Compare in time independent of where the first difference is."""
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):
        diff |= a[i] ^ b[i]
    return diff == 0


# ---------------------------------------------------------------- key file

def format_key_file(device_id, key):
    """The device's key file (``sync.key``): JSON with the id and the hex secret."""
    if len(key) != KEY_LEN:
        raise ValueError("key must be %d bytes" % KEY_LEN)
    return json.dumps({"id": device_id, "key": _hex(key)})


def parse_key_file(text):
    """``(device_id, key)`` from a key file's text; ValueError naming what is wrong."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise ValueError("key file is not JSON")
    if not isinstance(doc, dict):
        raise ValueError("key file must be a JSON object")
    dev = doc.get("id")
    hx = doc.get("key")
    if not isinstance(dev, str) or not dev or len(dev) > 32:
        raise ValueError("key file: 'id' must be text of 1-32 characters")
    if not isinstance(hx, str) or len(hx) != 2 * KEY_LEN:
        raise ValueError("key file: 'key' must be %d hex digits" % (2 * KEY_LEN))
    try:
        key = bytes(int(hx[i:i + 2], 16) for i in range(0, len(hx), 2))
    except ValueError:
        raise ValueError("key file: 'key' is not hex")
    return dev, key


def uuid_bytes(text):
    """A 128-bit UUID string as the little-endian bytes used on the air."""
    h = text.replace("-", "")
    return bytes(int(h[i:i + 2], 16) for i in range(30, -2, -2))


def _hex(b):
    return "".join("%02x" % x for x in b)


# ---------------------------------------------------------------- frames

def request(op, seq, payload=b""):
    """One request frame."""
    return struct.pack("<BBH", op, seq & 0xFF, len(payload)) + payload


def response_frames(op, seq, status, payload, room):
    """A response split into notifications of at most ``room`` bytes each."""
    per = room - RESP_HEADER
    out = []
    pos = 0
    while True:
        part = payload[pos:pos + per]
        pos += per
        more = 1 if pos < len(payload) else 0
        out.append(struct.pack("<BBBB", op | RESPONSE, seq, status, more) + part)
        if not more:
            return out


def data_frame(seq, offset, chunk, cipher=b""):
    """The CRC is of the plain bytes, so it also catches a wrong session key."""
    return struct.pack("<BBII", DATA, seq, offset, crc32(chunk)) + (cipher or chunk)


def parse_notification(frame):
    """Host side: ``("data", seq, offset, chunk, crc)`` (chunk as sent: encrypted) or
    ``("response", op, seq, status, more, payload)``; ProtocolError otherwise."""
    if len(frame) < RESP_HEADER:
        raise ProtocolError("notification of %d bytes is too short" % len(frame))
    kind = frame[0]
    if kind == DATA:
        if len(frame) < DATA_HEADER:
            raise ProtocolError("data frame of %d bytes is too short" % len(frame))
        _k, seq, offset, crc = struct.unpack_from("<BBII", frame, 0)
        return ("data", seq, offset, bytes(frame[DATA_HEADER:]), crc)
    if kind & RESPONSE:
        return ("response", kind & 0x7F, frame[1], frame[2], frame[3], bytes(frame[RESP_HEADER:]))
    raise ProtocolError("unknown notification kind 0x%02x" % kind)


def list_entries(payload):
    """Decode a LIST reply: ``(entries, more)`` with entries ``(id, size, digest)``
    (digest: ``swcore.logformat.session_digest`` of the session file)."""
    if len(payload) < 2 or (len(payload) - 2) % 12:
        raise ProtocolError("LIST reply of %d bytes" % len(payload))
    count, more = payload[0], payload[1]
    if count * 12 != len(payload) - 2:
        raise ProtocolError("LIST reply count %d does not match its length" % count)
    return [struct.unpack_from("<III", payload, 2 + 12 * i) for i in range(count)], bool(more)


# ---------------------------------------------------------------- device side

class _Reply(Exception):
    """Raised inside a handler to answer with an error status."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class SyncServer:
    """The device end of one connection at a time.

    ``store`` is the session log (``sessions``, ``read``, ``ack``, ``status``,
    ``set_clock``). ``key`` is ``(device_id, secret)`` or None when unprovisioned.
    ``install_plan(text)`` writes an already validated plan. ``random(n)`` gives
    nonces. ``info`` is a dict of device facts shown without auth; ``battery()``
    returns a percentage or None.
    """

    def __init__(self, store, key, random, install_plan=None, info=None, battery=None):
        self.store = store
        self.key = key
        self.random = random
        self.install_plan = install_plan
        self.info = info or {}
        self.battery = battery
        self.clock_set = False
        self.connect(DEFAULT_MTU)
        self.connected = False

    # -- connection state
    def connect(self, mtu=DEFAULT_MTU):
        self.connected = True
        self.mtu = mtu
        self.authed = False
        self.skey = None
        self.nonces = None
        self.auth_fails = 0
        self.last_seq = None
        self.outbox = []
        self.stream = None      # [seq, session_id, offset, end, digest]
        self.plan = None        # [expected_len, crc, bytearray]

    def disconnect(self):
        self.connect(DEFAULT_MTU)
        self.connected = False

    def set_mtu(self, mtu):
        self.mtu = max(DEFAULT_MTU, min(mtu, 517))

    def room(self):
        """Bytes in one notification at the current MTU."""
        return self.mtu - 3

    def busy(self):
        return bool(self.outbox) or self.stream is not None

    # -- output
    def next_frame(self):
        """The next notification to send, or None. Responses go before stream data."""
        if self.outbox:
            return self.outbox.pop(0)
        s = self.stream
        if s is None:
            return None
        seq, sid, off, end = s[0], s[1], s[2], s[3]
        if off >= end:
            self.stream = None
            return response_frames(OP_READ, seq, OK, struct.pack("<III", sid, end, s[4]), self.room())[0]
        n = min(self.room() - DATA_HEADER, end - off)
        try:
            chunk = self.store.read(sid, off, n)
            if not chunk:
                raise OSError("session shorter than listed")
            frame = data_frame(seq, off, chunk, crypt(self.skey, sid, off, chunk))
        except Exception as e:  # storage failure (or a bug): end the stream with an error
            self.stream = None
            return response_frames(OP_READ, seq, E_STORAGE, _msg("read failed: %s" % e), self.room())[0]
        s[2] = off + len(chunk)
        return frame

    def _reply(self, op, seq, status, payload=b""):
        self.outbox.extend(response_frames(op, seq, status, payload, self.room()))

    # -- input
    def handle(self, frame):
        """One request as written by the host. Never raises: errors become replies."""
        op = frame[0] if len(frame) else 0
        seq = frame[1] if len(frame) > 1 else 0
        try:
            if len(frame) < REQ_HEADER:
                raise _Reply(E_MALFORMED, "request of %d bytes is shorter than its header" % len(frame))
            if len(frame) > MAX_REQUEST:
                raise _Reply(E_TOO_LARGE, "request of %d bytes exceeds %d" % (len(frame), MAX_REQUEST))
            n = frame[2] | (frame[3] << 8)
            if n != len(frame) - REQ_HEADER:
                raise _Reply(E_MALFORMED, "length field says %d payload bytes, got %d" % (n, len(frame) - REQ_HEADER))
            if op not in OPS:
                raise _Reply(E_UNKNOWN_OP, "unknown opcode 0x%02x" % op)
            if self.last_seq is not None and seq != (self.last_seq + 1) & 0xFF:
                raise _Reply(E_OUT_OF_ORDER, "sequence %d, expected %d" % (seq, (self.last_seq + 1) & 0xFF))
            self.last_seq = seq
            if op not in NO_AUTH_OPS and not self.authed:
                raise _Reply(E_AUTH_REQUIRED, "authenticate first")
            payload = bytes(frame[REQ_HEADER:])
            getattr(self, "_op_%02x" % op)(seq, payload)
        except _Reply as r:
            self._reply(op, seq, r.status, _msg(r.message))
        except Exception as e:  # a bug or a storage failure must not take the device down
            self._reply(op, seq, E_INTERNAL, _msg("%s: %s" % (type(e).__name__, e)))

    @staticmethod
    def _need(payload, n, what):
        if len(payload) != n:
            raise _Reply(E_MALFORMED, "%s takes %d payload bytes, got %d" % (what, n, len(payload)))

    def _op_01(self, seq, payload):  # INFO
        self._need(payload, 0, "INFO")
        doc = {"proto": PROTO_VERSION, "id": self.key[0] if self.key else None,
               "provisioned": self.key is not None, "authenticated": self.authed,
               "max_request": MAX_REQUEST, "mtu": self.mtu}
        for k in self.info:
            doc[k] = self.info[k]
        self._reply(OP_INFO, seq, OK, json.dumps(doc).encode())

    def _op_02(self, seq, payload):  # AUTH_BEGIN
        self._need(payload, NONCE_LEN, "AUTH_BEGIN")
        if self.key is None:
            raise _Reply(E_NOT_PROVISIONED, "device has no key; provision it over USB")
        if self.auth_fails >= MAX_AUTH_FAILS:
            raise _Reply(E_LOCKED, "too many failed attempts; reconnect")
        dn = bytes(self.random(NONCE_LEN))
        self.nonces = (payload, dn)
        self._reply(OP_AUTH_BEGIN, seq, OK, dn + device_proof(self.key[1], payload, dn))

    def _op_03(self, seq, payload):  # AUTH_PROVE
        self._need(payload, MAC_LEN, "AUTH_PROVE")
        if self.auth_fails >= MAX_AUTH_FAILS:
            raise _Reply(E_LOCKED, "too many failed attempts; reconnect")
        if self.nonces is None:
            raise _Reply(E_OUT_OF_ORDER, "AUTH_PROVE without AUTH_BEGIN")
        hn, dn = self.nonces
        self.nonces = None  # one try per challenge
        if not same_bytes(payload, host_proof(self.key[1], hn, dn)):
            self.auth_fails += 1
            self.authed = False
            raise _Reply(E_AUTH_FAILED, "wrong key")
        self.authed = True
        self.skey = session_key(self.key[1], hn, dn)
        self._reply(OP_AUTH_PROVE, seq, OK)

    def _find(self, sid):
        for s in self.store.sessions():
            if s[0] == sid:
                return s
        raise _Reply(E_NOT_FOUND, "no session %d" % sid)

    def _op_10(self, seq, payload):  # LIST
        if len(payload) not in (0, 4):
            raise _Reply(E_MALFORMED, "LIST takes 0 or 4 payload bytes, got %d" % len(payload))
        after = struct.unpack("<I", payload)[0] if payload else -1
        found = [s for s in self.store.sessions() if s[0] > after]
        page = found[:MAX_LIST]
        out = bytearray(struct.pack("<BB", len(page), 1 if len(found) > MAX_LIST else 0))
        for sid, size, digest in page:
            out += struct.pack("<III", sid, size, digest & 0xFFFFFFFF)
        self._reply(OP_LIST, seq, OK, bytes(out))

    def _op_11(self, seq, payload):  # READ
        self._need(payload, 12, "READ")
        sid, off, n = struct.unpack("<III", payload)
        self.stream = None  # a new READ replaces a running one
        _sid, size, digest = self._find(sid)
        if off > size:
            raise _Reply(E_RANGE, "offset %d is past the end of session %d (%d bytes)" % (off, sid, size))
        end = size if n == 0 else min(size, off + n)
        self.stream = [seq, sid, off, end, digest & 0xFFFFFFFF]

    def _op_12(self, seq, payload):  # ACK
        self._need(payload, 8, "ACK")
        sid, digest = struct.unpack("<II", payload)
        _sid, _size, have = self._find(sid)
        if (have & 0xFFFFFFFF) != digest:
            raise _Reply(E_CRC, "session %d has digest %08x, not %08x" % (sid, have & 0xFFFFFFFF, digest))
        self.store.ack(sid)
        self._reply(OP_ACK, seq, OK)

    def _op_20(self, seq, payload):  # SET_CLOCK
        self._need(payload, 4, "SET_CLOCK")
        t = struct.unpack("<I", payload)[0]
        if t < 1577836800:  # 2020-01-01: anything earlier is a host bug
            raise _Reply(E_RANGE, "clock %d is before 2020" % t)
        self.store.set_clock(t)
        self.clock_set = True
        self._reply(OP_SET_CLOCK, seq, OK)

    def _op_21(self, seq, payload):  # STATUS
        self._need(payload, 0, "STATUS")
        try:
            storage = self.store.status()
        except Exception as e:
            raise _Reply(E_STORAGE, "status failed: %s" % e)
        doc = {"storage": storage, "clock_set": self.clock_set,
               "battery_pct": self.battery() if self.battery else None}
        self._reply(OP_STATUS, seq, OK, json.dumps(doc).encode())

    def _op_30(self, seq, payload):  # PLAN_BEGIN
        self._need(payload, 8, "PLAN_BEGIN")
        n, crc = struct.unpack("<II", payload)
        if n == 0 or n > MAX_PLAN:
            self.plan = None
            raise _Reply(E_TOO_LARGE, "plan of %d bytes; the limit is %d" % (n, MAX_PLAN))
        self.plan = [n, crc, bytearray()]
        self._reply(OP_PLAN_BEGIN, seq, OK)

    def _op_31(self, seq, payload):  # PLAN_DATA
        if len(payload) < 5:
            raise _Reply(E_MALFORMED, "PLAN_DATA needs an offset and at least one byte")
        if self.plan is None:
            raise _Reply(E_OUT_OF_ORDER, "PLAN_DATA without PLAN_BEGIN")
        off = struct.unpack_from("<I", payload, 0)[0]
        buf = self.plan[2]
        if off != len(buf):
            raise _Reply(E_OUT_OF_ORDER, "plan offset %d, expected %d" % (off, len(buf)))
        if len(buf) + len(payload) - 4 > self.plan[0]:
            self.plan = None
            raise _Reply(E_TOO_LARGE, "plan data beyond the announced size")
        buf += payload[4:]
        self._reply(OP_PLAN_DATA, seq, OK)

    def _op_32(self, seq, payload):  # PLAN_COMMIT
        self._need(payload, 0, "PLAN_COMMIT")
        if self.plan is None:
            raise _Reply(E_OUT_OF_ORDER, "PLAN_COMMIT without PLAN_BEGIN")
        n, crc, buf = self.plan
        self.plan = None
        if len(buf) != n:
            raise _Reply(E_OUT_OF_ORDER, "plan has %d of %d bytes" % (len(buf), n))
        if crc32(buf) != crc:
            raise _Reply(E_CRC, "plan crc mismatch")
        from swcore import plan as planmod
        try:
            text = bytes(buf).decode()
            name, _steps = planmod.parse(text)
        except (planmod.PlanError, UnicodeError, ValueError) as e:
            raise _Reply(E_BAD_PLAN, str(e))
        if self.install_plan is None:
            raise _Reply(E_STORAGE, "this device cannot store plans")
        try:
            self.install_plan(text)
        except OSError as e:
            raise _Reply(E_STORAGE, "cannot write plan: %s" % e)
        self._reply(OP_PLAN_COMMIT, seq, OK, name.encode())


def _msg(text):
    b = text.encode()
    return b[:200]
