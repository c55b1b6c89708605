"""Sprintwatch 0.1's sync client (protocol 1), kept unchanged to test what an old laptop
sees when it meets a protocol-2 device."""

import json
import os
import struct

import v1_syncproto as sp

REPLY_TIMEOUT_S = 10.0


class DeviceError(Exception):
    """The device answered a request with an error status."""

    def __init__(self, op, status, message):
        super().__init__("%s: %s (%s)" % (_op_name(op), message, sp.STATUS_NAMES.get(status, status)))
        self.op = op
        self.status = status


class ChunkError(Exception):
    """A data chunk failed its CRC or came at the wrong offset; re-read from ``offset``."""

    def __init__(self, offset):
        super().__init__("bad chunk at offset %d" % offset)
        self.offset = offset


class AuthError(Exception):
    """Key missing or wrong, or the device could not prove it holds the key."""


def _op_name(op):
    for k in dir(sp):
        if k.startswith("OP_") and getattr(sp, k) == op:
            return k[3:]
    return "op 0x%02x" % op


class SyncClient:
    def __init__(self, transport):
        self.t = transport
        self.seq = 0
        self.data_bytes = 0      # chunk payload bytes accepted
        self.bad_chunks = 0
        self.skey = b""          # session key, once authenticated

    async def request(self, op, payload=b""):
        self.seq = (self.seq + 1) & 0xFF
        await self.t.send(sp.request(op, self.seq, payload))
        return await self._response(op)

    async def _response(self, op):
        parts = []
        while True:
            f = sp.parse_notification(await self.t.recv(REPLY_TIMEOUT_S))
            if f[0] != "response" or f[1] != op or f[2] != self.seq:
                continue  # the tail of a stream we have replaced
            parts.append(f[5])
            if not f[4]:
                body = b"".join(parts)
                if f[3] != sp.OK:
                    raise DeviceError(op, f[3], body.decode("utf-8", "replace"))
                return body

    async def info(self):
        return json.loads(await self.request(sp.OP_INFO))

    async def authenticate(self, key):
        hn = os.urandom(sp.NONCE_LEN)
        try:
            body = await self.request(sp.OP_AUTH_BEGIN, hn)
        except DeviceError as e:
            raise AuthError(str(e))
        dn, proof = body[:sp.NONCE_LEN], body[sp.NONCE_LEN:]
        if not sp.same_bytes(proof, sp.device_proof(key, hn, dn)):
            raise AuthError("key mismatch: the device does not hold the key stored for it here "
                            "(another device with the same id, or it was re-provisioned)")
        try:
            await self.request(sp.OP_AUTH_PROVE, sp.host_proof(key, hn, dn))
        except DeviceError as e:
            raise AuthError(str(e))
        self.skey = sp.session_key(key, hn, dn)

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

        ``on_chunk(offset, data)`` gets each verified chunk in order. A chunk with a bad
        CRC or offset raises ChunkError naming where to re-read from.
        """
        self.seq = (self.seq + 1) & 0xFF
        seq = self.seq
        await self.t.send(sp.request(sp.OP_READ, seq, struct.pack("<III", sid, offset, length)))
        expect = offset
        while True:
            f = sp.parse_notification(await self.t.recv(REPLY_TIMEOUT_S))
            if f[0] == "data":
                if f[1] != seq:
                    continue
                plain = sp.crypt(self.skey, sid, f[2], f[3]) if f[2] == expect else b""
                if f[2] != expect or sp.crc32(plain) != f[4]:
                    self.bad_chunks += 1
                    raise ChunkError(expect)
                self.data_bytes += len(plain)
                on_chunk(expect, plain)
                expect += len(plain)
                continue
            if f[1] != sp.OP_READ or f[2] != seq:
                continue
            if f[3] != sp.OK:
                raise DeviceError(sp.OP_READ, f[3], f[5].decode("utf-8", "replace"))
            _sid, end, _digest = struct.unpack("<III", f[5][:12])
            if end != expect:
                raise ChunkError(expect)
            return expect

    async def ack(self, sid, digest):
        """Tell the device session ``sid`` is stored; it refuses a ``digest`` not its own."""
        await self.request(sp.OP_ACK, struct.pack("<II", sid, digest))

    async def set_clock(self, unix_s):
        await self.request(sp.OP_SET_CLOCK, struct.pack("<I", int(unix_s)))

    async def status(self):
        return json.loads(await self.request(sp.OP_STATUS))

    async def upload_plan(self, text):
        """Send a plan; the device validates it with its parser. Returns the plan name."""
        data = text.encode("utf-8")
        await self.request(sp.OP_PLAN_BEGIN, struct.pack("<II", len(data), sp.crc32(data)))
        room = min(self.t.mtu - 3, sp.MAX_REQUEST) - sp.REQ_HEADER - 4
        for off in range(0, len(data), room):
            await self.request(sp.OP_PLAN_DATA, struct.pack("<I", off) + data[off:off + room])
        return (await self.request(sp.OP_PLAN_COMMIT)).decode("utf-8", "replace")
