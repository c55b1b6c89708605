"""The host end of the sync protocol (version 2), over any ``Transport``.

Frames, keys, sealing and the handshake come from the firmware's own
``swcore.syncproto``; docs/ble-protocol.md is the specification this follows.
"""
import asyncio
import json
import os
import struct

from host_tools import firmware  # noqa: F401
from host_tools.transport import LinkLost
from swcore import syncproto as sp

REPLY_TIMEOUT_S = 10.0
REQUEST_RETRIES = 2          # a request whose reply never came is sent again (new counter)
PIPELINE_WINDOW = 8


class DeviceError(Exception):
    """The device answered a request with an error status."""

    def __init__(self, op, status, message):
        super().__init__("%s: %s (%s)" % (_op_name(op), message, sp.STATUS_NAMES.get(status, status)))
        self.op = op
        self.status = status


class ChunkError(Exception):
    """A data chunk came at the wrong offset; re-read from ``offset``."""

    def __init__(self, offset):
        super().__init__("bad chunk at offset %d" % offset)
        self.offset = offset


class AuthError(Exception):
    """Key missing or wrong, or the device could not prove it holds the key."""


class VersionError(Exception):
    """The device speaks another protocol version; the message says what to update."""


class TamperedFrame(LinkLost):
    """A frame from the device failed its tag or counter: forged, replayed, reordered
    or cut. The connection is not trusted any more; sync reconnects (new keys) and resumes."""


def _op_name(op):
    for k in dir(sp):
        if k.startswith("OP_") and getattr(sp, k) == op:
            return k[3:]
    return "op 0x%02x" % op


class SyncClient:
    def __init__(self, transport, log=None):
        self.t = transport
        self.reader = sp.FrameReader()
        self.channel = None      # once authenticated
        self.dev_ctr = 0         # last device frame counter accepted
        self.last_req = 0        # counter of the request being answered
        self.device_id = None
        self.suite = None
        self.data_bytes = 0      # chunk payload bytes accepted
        self.bad_chunks = 0
        self.resent = 0          # requests sent again (reply lost or dropped by the device)
        self.log = log or (lambda msg: None)

    # ------------------------------------------------------------ frames
    async def _next(self, timeout=REPLY_TIMEOUT_S):
        """The next device frame as ``(kind, status, req, payload)``, checked."""
        while True:
            try:
                f = self.reader.next()
            except sp.ProtocolError as e:
                raise TamperedFrame("unframeable data from the device: %s" % e)
            if f is not None:
                break
            self.reader.feed(await self.t.recv(timeout))
        if self.channel is None:
            try:
                kind, status, ctr, body = sp.parse_plain(f)
            except sp.ProtocolError as e:
                raise TamperedFrame(str(e))
            if ctr != 0 or len(body) < sp.REQ_PREFIX:
                raise TamperedFrame("unsealed frame with counter %d" % ctr)
        else:
            try:
                kind, status, ctr, body = self.channel.open(f)
            except sp.BadFrame as e:
                self.log("refused a frame from the device: %s" % e)
                raise TamperedFrame("refused a frame from the device: %s" % e)
            if ctr != self.dev_ctr + 1:
                self.log("refused a frame from the device: counter %d, expected %d" % (ctr, self.dev_ctr + 1))
                raise TamperedFrame("device frame counter %d, expected %d (replayed, reordered or lost)"
                                    % (ctr, self.dev_ctr + 1))
            self.dev_ctr = ctr
            if len(body) < sp.REQ_PREFIX:
                raise TamperedFrame("device frame without a request counter")
        req = struct.unpack_from("<I", body, 0)[0]
        return kind, status, req, bytes(body[sp.REQ_PREFIX:])

    def _seal(self, op, payload):
        if self.channel is None:
            return sp.request(op, payload), 0
        frame = self.channel.seal(op, 0, payload)
        return frame, self.channel.out_ctr

    async def request(self, op, payload=b"", retries=None):
        """Send one request and return its OK payload (DeviceError otherwise). A reply
        that never comes (the device dropped the request) makes it send again."""
        if retries is None:
            retries = REQUEST_RETRIES if self.channel is not None else 0
        for attempt in range(retries + 1):
            frame, ctr = self._seal(op, payload)
            self.last_req = ctr
            await self.t.send(frame)
            try:
                while True:
                    kind, status, req, body = await self._next()
                    if kind == sp.RESPONSE and status == sp.E_BUSY and (self.channel is None or req <= ctr):
                        raise TimeoutError("device busy: %s" % body.decode("utf-8", "replace"))
                    if kind != op | sp.RESPONSE or req != ctr:
                        continue  # the tail of a stream we replaced, or a late answer
                    if status != sp.OK:
                        raise DeviceError(op, status, body.decode("utf-8", "replace"))
                    return body
            except TimeoutError:
                if attempt == retries:
                    raise
                self.resent += 1
                self.log("no answer to %s; sending it again" % _op_name(op))

    async def pipeline(self, requests, window=PIPELINE_WINDOW):
        """Send ``[(op, payload)]`` without waiting for each answer; returns the OK
        payloads or DeviceErrors in order. The device answers these in order, so a
        reply to a later request means the earlier ones were lost (a full request
        buffer): they are sent again with new counters."""
        if self.channel is None:
            raise AuthError("pipelining needs an authenticated connection")
        results = [None] * len(requests)
        todo = list(range(len(requests)))
        pending = {}             # request counter -> index
        tries = [0] * len(requests)
        while todo or pending:
            while todo and len(pending) < window:
                i = todo.pop(0)
                frame, ctr = self._seal(*requests[i])
                pending[ctr] = i
                await self.t.send(frame)
            try:
                kind, status, req, body = await self._next()
            except TimeoutError:
                lost = sorted(pending)
            else:
                if req not in pending:
                    if kind == sp.RESPONSE and status == sp.E_BUSY:
                        lost = [c for c in sorted(pending) if c >= req]
                    else:
                        continue
                else:
                    i = pending.pop(req)
                    op = requests[i][0]
                    results[i] = body if status == sp.OK else DeviceError(op, status, body.decode("utf-8", "replace"))
                    lost = [c for c in sorted(pending) if c < req]
            for c in reversed(lost):
                i = pending.pop(c)
                tries[i] += 1
                if tries[i] > REQUEST_RETRIES + 2:
                    raise TimeoutError("request %s never answered" % _op_name(requests[i][0]))
                self.resent += 1
                todo.insert(0, i)
            if lost:
                self.log("%d pipelined request(s) lost; sent again" % len(lost))
        return results

    # ------------------------------------------------------------ operations
    async def info(self):
        """INFO, and the protocol version check: VersionError names what to update."""
        frame, _ = self._seal(sp.OP_INFO, b"")
        await self.t.send(frame)
        first = await self.t.recv(REPLY_TIMEOUT_S)
        if len(first) >= 8 and first[0] == sp.OP_INFO | sp.RESPONSE and bytes(first[4:8]) != bytes(4):
            raise VersionError("the device's firmware speaks sync protocol 1; update it "
                               "(sprintwatch flash) to sync with this sprintwatch")
        self.reader.feed(first)
        while True:
            kind, status, _req, body = await self._next()
            if kind == sp.OP_INFO | sp.RESPONSE:
                break
        if status != sp.OK:
            raise DeviceError(sp.OP_INFO, status, body.decode("utf-8", "replace"))
        doc = json.loads(body)
        proto = doc.get("proto")
        if proto != sp.PROTO_VERSION:
            if isinstance(proto, int) and proto > sp.PROTO_VERSION:
                raise VersionError("the device speaks sync protocol %d; update sprintwatch on this "
                                   "computer (this one speaks %d)" % (proto, sp.PROTO_VERSION))
            raise VersionError("the device's firmware speaks sync protocol %s; update it "
                               "(sprintwatch flash)" % proto)
        self.device_id = doc.get("id")
        return doc

    async def authenticate(self, key, device_id=None):
        device_id = device_id or self.device_id
        if not device_id:
            raise AuthError("ask INFO first: the device's id is part of its proof")
        hn = os.urandom(sp.NONCE_LEN)
        try:
            body = await self.request(sp.OP_AUTH_BEGIN, hn)
        except DeviceError as e:
            if e.status == sp.E_LOCKED:
                # Someone failed handshakes: wait out the back-off (at most 30 s), then
                # reconnect (this link would be dropped for idling meanwhile).
                wait_ms = int("".join(ch for ch in str(e).split("in ")[-1].split(" ms")[0] if ch.isdigit()) or 1000)
                self.log("device locked after failed handshakes; trying again in %.1f s" % (wait_ms / 1000))
                await asyncio.sleep(min(wait_ms, sp.BACKOFF_MAX_MS) / 1000 + 0.05)
                raise LinkLost("device was locked after failed handshakes")
            raise AuthError(str(e))
        if len(body) != sp.NONCE_LEN + 1 + sp.MAC_LEN:
            raise AuthError("AUTH_BEGIN answer of %d bytes" % len(body))
        dn, suite, proof = body[:sp.NONCE_LEN], body[sp.NONCE_LEN], body[sp.NONCE_LEN + 1:]
        if suite not in sp.SUITE_NAMES:
            raise AuthError("the device offers unknown cipher suite %d" % suite)
        if not sp.same_bytes(proof, sp.device_proof(key, hn, dn, suite, device_id)):
            raise AuthError("key mismatch: the device does not hold the key stored for it here "
                            "(another device with the same id, or it was re-provisioned)")
        try:
            await self.request(sp.OP_AUTH_PROVE, sp.host_proof(key, hn, dn, suite))
        except DeviceError as e:
            raise AuthError(str(e))
        self.suite = suite
        self.channel = sp.Channel(sp.Keys(key, hn, dn, suite), sp.DIR_HOST)
        if suite == sp.SUITE_MAC_ONLY:
            self.log("this device's firmware has no AES: frames are authenticated, not encrypted")

    async def list_sessions(self, after=None):
        """Every session newer than ``after`` as ``(id, size, digest)``, paging as needed."""
        out = []
        while True:
            body = await self.request(sp.OP_LIST, b"" if after is None else struct.pack("<I", after))
            page, more = sp.list_entries(body)
            out += page
            if not more or not page:
                return out
            after = page[-1][0]

    async def read(self, sid, offset, length, on_chunk):
        """Stream ``length`` bytes (0: to the end) of session ``sid`` from ``offset``.

        ``on_chunk(offset, data)`` gets each chunk in order (its tag already checked).
        A chunk at the wrong offset raises ChunkError naming where to re-read from.
        """
        frame, ctr = self._seal(sp.OP_READ, struct.pack("<III", sid, offset, length))
        await self.t.send(frame)
        expect = offset
        while True:
            kind, status, req, body = await self._next()
            if req != ctr:
                continue
            if kind == sp.DATA:
                off = struct.unpack_from("<I", body, 0)[0] if len(body) >= 4 else -1
                if off != expect:
                    self.bad_chunks += 1
                    raise ChunkError(expect)
                chunk = body[4:]
                self.data_bytes += len(chunk)
                on_chunk(expect, chunk)
                expect += len(chunk)
                continue
            if kind != sp.OP_READ | sp.RESPONSE:
                continue
            if status != sp.OK:
                raise DeviceError(sp.OP_READ, status, body.decode("utf-8", "replace"))
            _sid, end, _digest = struct.unpack("<III", body[:12])
            if end != expect:
                raise ChunkError(expect)
            return expect

    def ack_request(self, sid, data):
        """The ACK request for session ``sid`` whose bytes are ``data``."""
        return sp.OP_ACK, struct.pack("<I", sid) + sp.ack_proof(self.channel.ack_key, sid, len(data), [bytes(data)])

    async def ack(self, sid, data):
        """Tell the device session ``sid`` is stored, proving we hold all of ``data``."""
        await self.request(*self.ack_request(sid, data))

    async def set_clock(self, unix_s):
        await self.request(sp.OP_SET_CLOCK, struct.pack("<I", int(unix_s)))

    async def status(self):
        return json.loads(await self.request(sp.OP_STATUS))

    async def upload_plan(self, text):
        """Send a plan; the device validates it with its parser. Returns the plan name."""
        data = text.encode("utf-8")
        await self.request(sp.OP_PLAN_BEGIN, struct.pack("<II", len(data), sp.crc32(data)))
        # One write per piece where the MTU allows; at a tiny MTU, 64-byte pieces in long writes.
        room = min(self.t.mtu - 3, sp.MAX_REQUEST) - sp.HEADER - sp.TAG_LEN - 4
        if room < 32:
            room = 64
        for off in range(0, len(data), room):
            await self.request(sp.OP_PLAN_DATA, struct.pack("<I", off) + data[off:off + room])
        return (await self.request(sp.OP_PLAN_COMMIT)).decode("utf-8", "replace")
