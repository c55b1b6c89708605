"""SHA-256 (FIPS 180-4) in pure Python, for a port without ``hashlib``.

The interface of MicroPython's ``hashlib.sha256``: ``sha256(data=b"")``,
``update(data)``, ``digest()``. Slow (a few ms a block on a microcontroller): only
for a build with no ``hashlib`` at all (the nRF52840 CircuitPython builds have
``hashlib.new``).
``swcore.logformat`` picks it as the firmware's SHA-256 (sync proofs, session digests).
"""
_K = (
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
)
_H0 = (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
_M = 0xFFFFFFFF


def _rotr(x, n):
    return ((x >> n) | (x << (32 - n))) & _M


def _compress(h, block):
    w = [0] * 64
    for i in range(16):
        j = 4 * i
        w[i] = (block[j] << 24) | (block[j + 1] << 16) | (block[j + 2] << 8) | block[j + 3]
    for i in range(16, 64):
        a = w[i - 15]
        b = w[i - 2]
        s0 = _rotr(a, 7) ^ _rotr(a, 18) ^ (a >> 3)
        s1 = _rotr(b, 17) ^ _rotr(b, 19) ^ (b >> 10)
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & _M
    a, b, c, d, e, f, g, hh = h
    for i in range(64):
        t1 = (hh + (_rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)) + ((e & f) ^ (~e & g))
              + _K[i] + w[i]) & _M
        t2 = ((_rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) & _M
        hh = g
        g = f
        f = e
        e = (d + t1) & _M
        d = c
        c = b
        b = a
        a = (t1 + t2) & _M
    return [(x + y) & _M for x, y in zip(h, (a, b, c, d, e, f, g, hh))]


class sha256:
    digest_size = 32
    block_size = 64

    def __init__(self, data=b""):
        self._h = list(_H0)
        self._buf = b""
        self._n = 0
        if data:
            self.update(data)

    def update(self, data):
        data = bytes(data)
        self._n += len(data)
        buf = self._buf + data
        k = 0
        while len(buf) - k >= 64:
            self._h = _compress(self._h, buf[k:k + 64])
            k += 64
        self._buf = buf[k:]

    def digest(self):
        bits = self._n * 8
        tail = self._buf + b"\x80" + b"\x00" * ((55 - self._n) % 64)
        tail += bytes((bits >> (8 * (7 - i))) & 0xFF for i in range(8))
        h = list(self._h)
        for k in range(0, len(tail), 64):
            h = _compress(h, tail[k:k + 64])
        out = bytearray(32)
        for i in range(8):
            for j in range(4):
                out[4 * i + j] = (h[i] >> (24 - 8 * j)) & 0xFF
        return bytes(out)

    def hexdigest(self):
        return "".join("%02x" % b for b in self.digest())
