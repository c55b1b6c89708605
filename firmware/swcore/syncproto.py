"""The sync protocol (version 2): frames, handshake, sealing and the device-side server.

Pure (no Bluetooth import): the GATT layer (``swrt.ble_mp``, ``swrt.ble_cp``) feeds each
RX write to ``SyncServer.handle`` and sends what ``SyncServer.next_piece`` returns as TX
notifications; it calls ``SyncServer.poll`` often and drops the link when told. The
laptop imports this same module for framing, keys and sealing, so both ends share one
definition. docs/ble-protocol.md is the specification.

Every frame, both ways:  kind u8 | status u8 | len u16 LE | ctr u32 LE | body[len]
After the handshake a body is AES-128-CTR ciphertext || 16-byte HMAC-SHA256 tag over
direction, header and ciphertext (encrypt-then-MAC, keys per connection from HKDF).
"""
import json
import struct

try:
    from binascii import crc32 as _crc32
except ImportError:  # a port without binascii.crc32
    _crc32 = None
from swcore import synccrypto as sc
from swcore.synccrypto import same_bytes  # noqa: F401 (the host uses it from here)

PROTO_VERSION = 2

SERVICE_UUID = "5a0d0001-8f3e-4c1a-9b6e-53707277a7c1"
RX_UUID = "5a0d0002-8f3e-4c1a-9b6e-53707277a7c1"   # host writes requests here
TX_UUID = "5a0d0003-8f3e-4c1a-9b6e-53707277a7c1"   # device notifies responses and data

# Request opcodes
OP_INFO = 0x01          # no auth: protocol version, device id, name, firmware
OP_AUTH_BEGIN = 0x02    # host nonce -> device nonce + suite + device proof
OP_AUTH_PROVE = 0x03    # host proof
OP_LIST = 0x10          # sessions after an id: (id, size, digest)
OP_READ = 0x11          # stream a session from an offset
OP_ACK = 0x12           # the host has stored a session: id + proof of its bytes
OP_SET_CLOCK = 0x20     # unix seconds
OP_STATUS = 0x21        # device and storage status (JSON)
OP_PLAN_BEGIN = 0x30    # plan size + crc32
OP_PLAN_DATA = 0x31     # plan bytes at an offset
OP_PLAN_COMMIT = 0x32   # validate with swcore.plan and install
DATA = 0x40             # device frame kind: a chunk of a READ stream
RESPONSE = 0x80         # response kind = request op | RESPONSE

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
E_VERSION = 15
E_BAD_TAG = 16
E_REPLAY = 17
E_BUSY = 18
E_BAD_PROOF = 19
E_REPLACED = 20

STATUS_NAMES = {
    OK: "ok", E_MALFORMED: "malformed", E_UNKNOWN_OP: "unknown-op",
    E_AUTH_REQUIRED: "auth-required", E_AUTH_FAILED: "auth-failed",
    E_OUT_OF_ORDER: "out-of-order", E_NOT_FOUND: "not-found", E_RANGE: "range",
    E_TOO_LARGE: "too-large", E_BAD_PLAN: "bad-plan", E_CRC: "crc-mismatch",
    E_NOT_PROVISIONED: "not-provisioned", E_STORAGE: "storage", E_INTERNAL: "internal",
    E_LOCKED: "locked", E_VERSION: "version", E_BAD_TAG: "bad-tag", E_REPLAY: "replay",
    E_BUSY: "busy", E_BAD_PROOF: "bad-proof", E_REPLACED: "replaced",
}

HEADER = 8
TAG_LEN = sc.TAG_LEN
REQ_PREFIX = 4           # device frames: the ctr of the request answered, first in the body
MAX_REQUEST = 512        # a whole request frame; the RX value buffer is this size
MAX_DEVICE_BODY = 1024   # the largest body the device sends (hosts may refuse larger)
MAX_OUTBOX = 1536        # bytes of replies waiting; requests beyond it are dropped (busy)
MAX_PLAN = 8192
MAX_LIST = 64            # entries per LIST reply; ask again after the last id
CHUNK = 482              # session bytes per DATA frame: 514-byte frames (one MTU-517 notification)
NONCE_LEN = 16
MAC_LEN = 32
KEY_LEN = 32
MAX_AUTH_FAILS = 3       # per connection, then the device drops the link
DEFAULT_MTU = 23
CLOCK_MIN = 1577836800   # 2020-01-01T00:00:00Z
CLOCK_MAX = 4102444799   # 2099-12-31T23:59:59Z
UNAUTH_TIMEOUT_MS = 5000     # an unauthenticated connection is dropped after this
IDLE_TIMEOUT_MS = 60000      # an authenticated one after this long without a request
BACKOFF_MAX_MS = 30000       # failed handshakes: 1 s, 2 s, 4 s ... this, device-wide
PENALTY_MS = 20000           # a peer dropped for squatting or failing is refused this long
PENALTY_PEERS = 8
EVENT_LOG = 16               # security events kept for STATUS

SUITE_MAC_ONLY = 0       # a port without AES: every frame tagged, bodies in the clear
SUITE_AES_CTR_HMAC = 1   # AES-128-CTR + HMAC-SHA256-128, encrypt-then-MAC
SUITE_NAMES = {SUITE_MAC_ONLY: "hmac-sha256 (no encryption)",
               SUITE_AES_CTR_HMAC: "aes128-ctr + hmac-sha256"}
LOCAL_SUITE = SUITE_AES_CTR_HMAC if sc.AES_BACKEND else SUITE_MAC_ONLY

DEV_LABEL = b"sprintwatch-v2-device"
HOST_LABEL = b"sprintwatch-v2-host"
KEYS_LABEL = b"sprintwatch-v2-keys"
ACK_LABEL = b"sprintwatch-v2-ack"
DIR_HOST = b"H"          # host -> device
DIR_DEVICE = b"D"        # device -> host

# Version 1 (for the "update sprintwatch" answer to an old host)
V1_HEADER = 4
V1_OPS = (0x01, 0x02, 0x03, 0x10, 0x11, 0x12, 0x20, 0x21, 0x30, 0x31, 0x32)
UPDATE_HOST_MSG = "this Sprintwatch speaks sync protocol 2: update sprintwatch on this computer"


class ProtocolError(Exception):
    """A frame that does not follow the protocol (host side decoding)."""


class BadFrame(ProtocolError):
    """A sealed frame whose tag, counter or length is wrong: forged, replayed or cut."""


# ---------------------------------------------------------------- checksums, keys

def _crc32_soft(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def crc32(data, crc=0):
    """CRC-32 (zlib/IEEE): the plan upload's transfer check (not a security measure)."""
    if _crc32 is not None:
        return _crc32(data, crc) & 0xFFFFFFFF
    return _crc32_soft(data, crc)


hmac_sha256 = sc.hmac_sha256


def device_proof(key, host_nonce, device_nonce, suite, device_id):
    return hmac_sha256(key, DEV_LABEL + host_nonce + device_nonce + bytes((suite,)) + device_id.encode())


def host_proof(key, host_nonce, device_nonce, suite):
    return hmac_sha256(key, HOST_LABEL + device_nonce + host_nonce + bytes((suite,)))


class Keys:
    """One connection's keys: HKDF-SHA256(secret, salt = Hn || Dn, info = label || suite)
    split into AES keys and MAC keys per direction and the ACK proof key."""

    def __init__(self, secret, host_nonce, device_nonce, suite):
        okm = sc.hkdf(secret, host_nonce + device_nonce, KEYS_LABEL + bytes((suite,)), 128)
        self.suite = suite
        self.enc_host = okm[0:16]
        self.enc_device = okm[16:32]
        self.mac_host = okm[32:64]
        self.mac_device = okm[64:96]
        self.ack = okm[96:128]


def ack_proof(ack_key, sid, size, chunks):
    """HMAC(ack key, label || id u32 || size u32 || every byte of the session): what only
    a host holding the whole session can send (the device never sends it)."""
    h = sc.HMAC(ack_key, ACK_LABEL + struct.pack("<II", sid, size))
    for c in chunks:
        h.update(c)
    return h.digest()


class Channel:
    """Seals frames one way and opens them the other, for one connection.

    ``side`` is DIR_DEVICE on the device, DIR_HOST on the host. Counters start at 1.
    ``open`` checks the tag before anything else; the caller checks the counter rule
    (device: request ctr above the last accepted; host: device ctr exactly last + 1).
    """

    def __init__(self, keys, side):
        self.suite = keys.suite
        mine = side == DIR_DEVICE
        self.out_dir = side
        self.in_dir = DIR_HOST if mine else DIR_DEVICE
        self.out_mac = keys.mac_device if mine else keys.mac_host
        self.in_mac = keys.mac_host if mine else keys.mac_device
        self.ack_key = keys.ack
        if keys.suite == SUITE_AES_CTR_HMAC:
            self.out_aes = sc.CTR(keys.enc_device if mine else keys.enc_host)
            self.in_aes = sc.CTR(keys.enc_host if mine else keys.enc_device)
        else:
            self.out_aes = self.in_aes = None
        self.out_ctr = 0

    @staticmethod
    def _icb(direction, ctr):
        return direction + b"\x00\x00\x00" + struct.pack(">I", ctr) + bytes(8)

    def seal(self, kind, status, plain):
        """A whole frame (header, ciphertext, tag) with the next outgoing counter."""
        self.out_ctr += 1
        ctr = self.out_ctr
        body = self.out_aes.xor(self._icb(self.out_dir, ctr), plain) if self.out_aes else bytes(plain)
        header = struct.pack("<BBHI", kind, status, len(body) + TAG_LEN, ctr)
        tag = hmac_sha256(self.out_mac, self.out_dir + header + body)[:TAG_LEN]
        return header + body + tag

    def open(self, frame):
        """``(kind, status, ctr, plain)`` of a sealed frame; BadFrame if the tag is wrong."""
        if len(frame) < HEADER + TAG_LEN:
            raise BadFrame("sealed frame of %d bytes is shorter than header and tag" % len(frame))
        kind, status, n, ctr = struct.unpack_from("<BBHI", frame, 0)
        if n != len(frame) - HEADER:
            raise BadFrame("length field says %d, frame has %d body bytes" % (n, len(frame) - HEADER))
        body = bytes(frame[HEADER:len(frame) - TAG_LEN])
        want = hmac_sha256(self.in_mac, self.in_dir + bytes(frame[:HEADER]) + body)[:TAG_LEN]
        if not same_bytes(bytes(frame[len(frame) - TAG_LEN:]), want):
            raise BadFrame("bad tag on a frame with counter %d" % ctr)
        plain = self.in_aes.xor(self._icb(self.in_dir, ctr), body) if self.in_aes else body
        return kind, status, ctr, plain


# ---------------------------------------------------------------- key file, UUIDs

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
    for ch in dev:
        if not " " < ch < "\x7f":
            raise ValueError("key file: 'id' must be printable ASCII without spaces")
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

def request(op, payload=b""):
    """An unsealed request (INFO, AUTH_BEGIN, AUTH_PROVE): counter 0."""
    return struct.pack("<BBHI", op, 0, len(payload), 0) + payload


def plain_frame(kind, status, req, payload):
    """An unsealed device frame (before the handshake): counter 0, then the request's."""
    return struct.pack("<BBHII", kind, status, len(payload) + REQ_PREFIX, 0, req) + payload


class FrameReader:
    """Cuts the TX notification stream into frames by their length field, whatever
    the notification boundaries (a notification may hold several frames or part of one)."""

    def __init__(self, limit=MAX_DEVICE_BODY + HEADER + REQ_PREFIX + TAG_LEN):
        self.buf = bytearray()
        self.limit = limit

    def feed(self, data):
        self.buf += data

    def next(self):
        """The next whole frame, or None; ProtocolError if the stream cannot be framed."""
        if len(self.buf) < HEADER:
            return None
        n = self.buf[2] | (self.buf[3] << 8)
        if HEADER + n > self.limit:
            raise ProtocolError("frame of %d bytes announced; the limit is %d" % (HEADER + n, self.limit))
        if len(self.buf) < HEADER + n:
            return None
        frame = bytes(self.buf[:HEADER + n])
        self.buf = self.buf[HEADER + n:]
        return frame


def parse_plain(frame):
    """``(kind, status, ctr, plain body)`` of an unsealed frame."""
    if len(frame) < HEADER:
        raise ProtocolError("frame of %d bytes is shorter than its header" % len(frame))
    kind, status, n, ctr = struct.unpack_from("<BBHI", frame, 0)
    if n != len(frame) - HEADER:
        raise ProtocolError("length field says %d, frame has %d body bytes" % (n, len(frame) - HEADER))
    return kind, status, ctr, bytes(frame[HEADER:])


def list_entries(payload):
    """Decode a LIST reply: ``(entries, more)`` with entries ``(id, size, digest)``."""
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


def _ticks_diff(a, b):
    return a - b


class SyncServer:
    """The device end of one connection at a time.

    ``store`` is the session log (``sessions``, ``read``, ``ack``, ``status``,
    ``set_clock``). ``key`` is ``(device_id, secret)`` or None when unprovisioned.
    ``install_plan(text)`` writes an already validated plan. ``random(n)`` gives
    nonces. ``info`` is a dict of device facts shown without auth; ``battery()``
    returns a percentage or None. ``clock()`` gives milliseconds (``ticks_diff``
    subtracts two of them, wrap-safe); ``on_event(kind, detail)`` hears each refused
    frame and dropped connection (also kept in ``events`` and shown by STATUS).
    """

    def __init__(self, store, key, random, install_plan=None, info=None, battery=None,
                 clock=None, ticks_diff=None, on_event=None, suite=None,
                 unauth_timeout_ms=UNAUTH_TIMEOUT_MS, idle_timeout_ms=IDLE_TIMEOUT_MS):
        self.store = store
        self.key = key
        self.random = random
        self.install_plan = install_plan
        self.info = info or {}
        self.battery = battery
        if clock is None:
            self._t = 0
            clock = self._manual_clock
        self.clock = clock
        self.ticks_diff = ticks_diff or _ticks_diff
        self.on_event = on_event
        self.suite = LOCAL_SUITE if suite is None else suite
        self.unauth_timeout_ms = unauth_timeout_ms
        self.idle_timeout_ms = idle_timeout_ms
        self.clock_set = False
        self.events = []
        self.counts = {}
        self.fails = 0              # consecutive failed handshakes, every connection
        self.locked_at = None
        self.penalty = []           # [peer, since]
        self._reset(DEFAULT_MTU)
        self.connected = False

    def _manual_clock(self):
        return self._t

    # -- connection state
    def _reset(self, mtu):
        self.mtu = mtu
        self.peer = None
        self.channel = None         # set once authenticated
        self.nonces = None
        self.auth_fails = 0
        self.last_req = 0
        self.outbox = []
        self.out_bytes = 0
        self.tx = b""
        self.tx_pos = 0
        self.dropped = 0            # requests dropped because the outbox was full
        self.dropped_first = 0
        self.stream = None          # [req, session_id, offset, end, digest]
        self.plan = None            # [expected_len, crc, bytearray]
        self.drop_reason = None
        self.since = self.clock()

    @property
    def authed(self):
        return self.channel is not None

    def connect(self, mtu=DEFAULT_MTU, peer=None):
        """A central connected. False: refuse it (a peer in the penalty box): the
        caller disconnects it at once."""
        self._reset(mtu)
        self.connected = True
        self.peer = peer
        if peer is not None:
            now = self.clock()
            self.penalty = [p for p in self.penalty if self.ticks_diff(now, p[1]) < PENALTY_MS]
            for p in self.penalty:
                if p[0] == peer:
                    self._event("refused", "peer dropped earlier connects again")
                    self.drop_reason = "penalty"
                    return False
        return True

    def disconnect(self):
        self._reset(DEFAULT_MTU)
        self.connected = False

    def set_mtu(self, mtu):
        self.mtu = max(DEFAULT_MTU, min(mtu, 517))

    def room(self):
        """Bytes in one notification at the current MTU."""
        return self.mtu - 3

    def busy(self):
        return bool(self.outbox) or self.stream is not None or self.tx_pos < len(self.tx)

    def _event(self, kind, detail):
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.events.append((kind, detail))
        if len(self.events) > EVENT_LOG:
            self.events.pop(0)
        if self.on_event is not None:
            try:
                self.on_event(kind, detail)
            except Exception:
                pass

    def _punish(self, reason):
        self.drop_reason = reason
        self._event("dropped", reason)
        if self.peer is not None:
            self.penalty.append([self.peer, self.clock()])
            if len(self.penalty) > PENALTY_PEERS:
                self.penalty.pop(0)

    def poll(self):
        """Call often: the reason to drop the link now, or None."""
        if not self.connected:
            return None
        if self.drop_reason is not None:
            return self.drop_reason
        idle = self.ticks_diff(self.clock(), self.since)
        if self.channel is None and idle >= self.unauth_timeout_ms:
            self._punish("not authenticated within %d ms" % self.unauth_timeout_ms)
        elif self.channel is not None and idle >= self.idle_timeout_ms and not self.busy():
            self.drop_reason = "idle for %d ms" % self.idle_timeout_ms
            self._event("dropped", self.drop_reason)
        return self.drop_reason

    # -- output
    def next_piece(self, room=None):
        """The next TX notification: up to ``room`` bytes of the frame stream, or None.
        Send it, or hand the same bytes again: nothing is lost unless given back."""
        room = self.room() if room is None else room
        out = bytearray()
        while len(out) < room:
            if self.tx_pos >= len(self.tx):
                f = self._next_frame()
                if f is None:
                    break
                self.tx = f
                self.tx_pos = 0
            take = min(room - len(out), len(self.tx) - self.tx_pos)
            out += self.tx[self.tx_pos:self.tx_pos + take]
            self.tx_pos += take
        return bytes(out) if out else None

    def _next_frame(self):
        if self.outbox:
            f = self.outbox.pop(0)
            self.out_bytes -= len(f)
            return f
        if self.dropped:
            n, self.dropped = self.dropped, 0
            return self._frame(RESPONSE, E_BUSY, self.dropped_first,   # op 0: a device notice
                               _msg("%d request(s) dropped: %d bytes of replies were waiting; read "
                                    "each reply before sending more" % (n, MAX_OUTBOX)))
        s = self.stream
        if s is None:
            return None
        req, sid, off, end = s[0], s[1], s[2], s[3]
        if off >= end:
            self.stream = None
            return self._frame(RESPONSE | OP_READ, OK, req, struct.pack("<III", sid, end, s[4]))
        try:
            chunk = self.store.read(sid, off, min(CHUNK, end - off))
            if not chunk:
                raise OSError("session shorter than listed")
        except Exception as e:  # storage failure (or a bug): end the stream with an error
            self.stream = None
            return self._frame(RESPONSE | OP_READ, E_STORAGE, req, _msg("read failed: %s" % e))
        s[2] = off + len(chunk)
        self.since = self.clock()
        return self._frame(DATA, OK, req, struct.pack("<I", off) + chunk)

    def _frame(self, kind, status, req, payload):
        if self.channel is None:
            return plain_frame(kind, status, req, payload)
        return self.channel.seal(kind, status, struct.pack("<I", req) + payload)

    def _reply(self, op, status, req, payload=b""):
        f = self._frame(RESPONSE | op, status, req, payload)
        self.outbox.append(f)
        self.out_bytes += len(f)

    # -- input
    def handle(self, frame):
        """One request as written by the host. Never raises: errors become replies."""
        frame = bytes(frame)
        if self.out_bytes >= MAX_OUTBOX:
            # The peer is not reading: keep the heap bounded, say so once there is room.
            if not self.dropped:
                self.dropped_first = struct.unpack_from("<I", frame, 4)[0] if len(frame) >= HEADER else 0
            self.dropped += 1
            if self.dropped == 1:
                self._event("busy", "requests dropped: replies not read")
            return
        op = frame[0] if frame else 0
        req = 0
        try:
            if self.channel is None and self._is_v1(frame):
                self._v1_refusal(frame)
                return
            if len(frame) < HEADER:
                raise _Reply(E_MALFORMED, "request of %d bytes is shorter than its 8-byte header" % len(frame))
            req = struct.unpack_from("<I", frame, 4)[0]
            if len(frame) > MAX_REQUEST:
                raise _Reply(E_TOO_LARGE, "request of %d bytes exceeds %d" % (len(frame), MAX_REQUEST))
            n = frame[2] | (frame[3] << 8)
            if n != len(frame) - HEADER:
                raise _Reply(E_MALFORMED, "length field says %d body bytes, got %d" % (n, len(frame) - HEADER))
            if op not in OPS:
                raise _Reply(E_UNKNOWN_OP, "unknown opcode 0x%02x" % op)
            if self.channel is not None:
                try:
                    _k, _s, req, payload = self.channel.open(frame)
                except BadFrame as e:
                    self._event("bad-tag", "op 0x%02x ctr %d" % (op, req))
                    raise _Reply(E_BAD_TAG, str(e))
                if req <= self.last_req:
                    self._event("replay", "op 0x%02x ctr %d after %d" % (op, req, self.last_req))
                    raise _Reply(E_REPLAY, "counter %d is not above %d: replayed or reordered" % (req, self.last_req))
                self.last_req = req
            else:
                if op not in NO_AUTH_OPS:
                    raise _Reply(E_AUTH_REQUIRED, "authenticate first")
                req = 0
                payload = frame[HEADER:]
            if self.channel is not None:   # before the handshake the clock runs from the connection
                self.since = self.clock()
            getattr(self, "_op_%02x" % op)(req, payload)
        except _Reply as r:
            self._reply(op if op in OPS else 0, r.status, req, _msg(r.message))
        except Exception as e:  # a bug or a storage failure must not take the device down
            self._reply(op if op in OPS else 0, E_INTERNAL, req, _msg("%s: %s" % (type(e).__name__, e)))

    @staticmethod
    def _is_v1(frame):
        n = len(frame)
        return (V1_HEADER <= n <= MAX_REQUEST and frame[0] in V1_OPS
                and (frame[2] | (frame[3] << 8)) == n - V1_HEADER)

    def _v1_refusal(self, frame):
        # A version-1 host: answer in its own framing so it prints why.
        f = bytes((frame[0] | RESPONSE, frame[1], E_VERSION, 0)) + UPDATE_HOST_MSG.encode()[:self.room() - 4]
        self.outbox.append(f)
        self.out_bytes += len(f)
        self._event("version", "a protocol-1 host")

    @staticmethod
    def _need(payload, n, what):
        if len(payload) != n:
            raise _Reply(E_MALFORMED, "%s takes %d payload bytes, got %d" % (what, n, len(payload)))

    def _op_01(self, req, payload):  # INFO
        self._need(payload, 0, "INFO")
        doc = {"proto": PROTO_VERSION, "id": self.key[0] if self.key else None,
               "provisioned": self.key is not None, "authenticated": self.authed,
               "suite": self.suite, "max_request": MAX_REQUEST, "mtu": self.mtu}
        for k in self.info:
            doc[k] = self.info[k]
        self._reply(OP_INFO, OK, req, json.dumps(doc).encode())

    def _locked_ms(self):
        if self.locked_at is None:
            return 0
        wait = min(1000 << min(self.fails - 1, 15), BACKOFF_MAX_MS)
        left = wait - self.ticks_diff(self.clock(), self.locked_at)
        return left if left > 0 else 0

    def _op_02(self, req, payload):  # AUTH_BEGIN
        self._need(payload, NONCE_LEN, "AUTH_BEGIN")
        if self.key is None:
            raise _Reply(E_NOT_PROVISIONED, "device has no key; provision it over USB")
        if self.authed:
            raise _Reply(E_OUT_OF_ORDER, "already authenticated; reconnect to authenticate again")
        left = self._locked_ms()
        if left:
            raise _Reply(E_LOCKED, "failed handshakes: try again in %d ms" % left)
        dn = bytes(self.random(NONCE_LEN))
        self.nonces = (bytes(payload), dn)
        proof = device_proof(self.key[1], bytes(payload), dn, self.suite, self.key[0])
        self._reply(OP_AUTH_BEGIN, OK, req, dn + bytes((self.suite,)) + proof)

    def _op_03(self, req, payload):  # AUTH_PROVE
        self._need(payload, MAC_LEN, "AUTH_PROVE")
        if self.authed:
            raise _Reply(E_OUT_OF_ORDER, "already authenticated; reconnect to authenticate again")
        if self.nonces is None:
            raise _Reply(E_OUT_OF_ORDER, "AUTH_PROVE without AUTH_BEGIN")
        hn, dn = self.nonces
        self.nonces = None  # one try per challenge
        if not same_bytes(payload, host_proof(self.key[1], hn, dn, self.suite)):
            self.auth_fails += 1
            self.fails += 1
            self.locked_at = self.clock()
            self._event("auth-failed", "wrong proof (%d in a row)" % self.fails)
            if self.auth_fails >= MAX_AUTH_FAILS:
                self._punish("%d failed handshakes" % self.auth_fails)
            raise _Reply(E_AUTH_FAILED, "wrong key")
        self.fails = 0
        self.locked_at = None
        self._reply(OP_AUTH_PROVE, OK, req)   # the last unsealed frame
        self.channel = Channel(Keys(self.key[1], hn, dn, self.suite), DIR_DEVICE)
        self.since = self.clock()

    def _find(self, sid):
        for s in self.store.sessions():
            if s[0] == sid:
                return s
        raise _Reply(E_NOT_FOUND, "no session %d" % sid)

    def _op_10(self, req, payload):  # LIST
        if len(payload) not in (0, 4):
            raise _Reply(E_MALFORMED, "LIST takes 0 or 4 payload bytes, got %d" % len(payload))
        after = struct.unpack("<I", payload)[0] if payload else -1
        found = [s for s in self.store.sessions() if s[0] > after]
        page = found[:MAX_LIST]
        out = bytearray(struct.pack("<BB", len(page), 1 if len(found) > MAX_LIST else 0))
        for sid, size, digest in page:
            out += struct.pack("<III", sid, size, digest & 0xFFFFFFFF)
        self._reply(OP_LIST, OK, req, bytes(out))

    def _op_11(self, req, payload):  # READ
        self._need(payload, 12, "READ")
        sid, off, n = struct.unpack("<III", payload)
        if self.stream is not None:  # a new READ replaces a running one
            self._reply(OP_READ, E_REPLACED, self.stream[0], _msg("replaced by the READ with counter %d" % req))
            self.stream = None
        _sid, size, digest = self._find(sid)
        if off > size:
            raise _Reply(E_RANGE, "offset %d is past the end of session %d (%d bytes)" % (off, sid, size))
        end = size if n == 0 else min(size, off + n)
        self.stream = [req, sid, off, end, digest & 0xFFFFFFFF]

    def _op_12(self, req, payload):  # ACK
        self._need(payload, 4 + MAC_LEN, "ACK")
        sid = struct.unpack_from("<I", payload, 0)[0]
        _sid, size, _digest = self._find(sid)
        want = ack_proof(self.channel.ack_key, sid, size, self._chunks(sid, size))
        if not same_bytes(payload[4:], want):
            self._event("bad-proof", "ACK of session %d without its bytes" % sid)
            raise _Reply(E_BAD_PROOF, "ACK proof for session %d does not match its %d bytes" % (sid, size))
        self.store.ack(sid)
        self._reply(OP_ACK, OK, req)

    def _chunks(self, sid, size):
        off = 0
        while off < size:
            c = self.store.read(sid, off, min(512, size - off))
            if not c:
                raise _Reply(E_STORAGE, "session %d is shorter than listed" % sid)
            off += len(c)
            yield c

    def _op_20(self, req, payload):  # SET_CLOCK
        self._need(payload, 4, "SET_CLOCK")
        t = struct.unpack("<I", payload)[0]
        if t < CLOCK_MIN or t > CLOCK_MAX:
            raise _Reply(E_RANGE, "clock %d is outside 2020-01-01 .. 2099-12-31" % t)
        self.store.set_clock(t)
        self.clock_set = True
        self._reply(OP_SET_CLOCK, OK, req)

    def _op_21(self, req, payload):  # STATUS
        self._need(payload, 0, "STATUS")
        try:
            storage = self.store.status()
        except Exception as e:
            raise _Reply(E_STORAGE, "status failed: %s" % e)
        doc = {"storage": storage, "clock_set": self.clock_set,
               "battery_pct": self.battery() if self.battery else None,
               "security": self.counts}
        self._reply(OP_STATUS, OK, req, json.dumps(doc).encode())

    def _op_30(self, req, payload):  # PLAN_BEGIN
        self._need(payload, 8, "PLAN_BEGIN")
        n, crc = struct.unpack("<II", payload)
        if n == 0 or n > MAX_PLAN:
            self.plan = None
            raise _Reply(E_TOO_LARGE, "plan of %d bytes; the limit is %d" % (n, MAX_PLAN))
        self.plan = [n, crc, bytearray()]
        self._reply(OP_PLAN_BEGIN, OK, req)

    def _op_31(self, req, payload):  # PLAN_DATA
        if len(payload) < 5:
            raise _Reply(E_MALFORMED, "PLAN_DATA needs an offset and at least one byte")
        if self.plan is None:
            raise _Reply(E_OUT_OF_ORDER, "PLAN_DATA without PLAN_BEGIN")
        off = struct.unpack_from("<I", payload, 0)[0]
        data = payload[4:]
        buf = self.plan[2]
        if off < len(buf) and off + len(data) <= len(buf) and buf[off:off + len(data)] == data:
            self._reply(OP_PLAN_DATA, OK, req)   # a resent piece already stored
            return
        if off != len(buf):
            raise _Reply(E_OUT_OF_ORDER, "plan offset %d, expected %d" % (off, len(buf)))
        if len(buf) + len(data) > self.plan[0]:
            self.plan = None
            raise _Reply(E_TOO_LARGE, "plan data beyond the announced size")
        buf += data
        self._reply(OP_PLAN_DATA, OK, req)

    def _op_32(self, req, payload):  # PLAN_COMMIT
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
        self._reply(OP_PLAN_COMMIT, OK, req, name.encode())


def _msg(text):
    b = text.encode()
    return b[:200]
