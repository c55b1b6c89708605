"""Vetted primitives for the sync protocol, behind one small interface on every runtime.

- HMAC-SHA256 (RFC 2104) and HKDF-SHA256 (RFC 5869): the standard library's ``hmac`` on
  CPython; on MicroPython/CircuitPython (no ``hmac`` module) RFC 2104 over the port's
  SHA-256, checked against CPython's ``hmac`` and the RFC test vectors.
- AES-128 in CTR mode (NIST SP 800-38A): the counter blocks are encrypted with the
  port's own AES (MicroPython ``cryptolib``, CircuitPython ``aesio``, CPython
  ``cryptography``) in ECB, one call per frame, and XORed with the data: the mode the
  unix port lacks natively (``cryptolib`` there has ECB and CBC only). Checked against
  the SP 800-38A vectors and ``cryptography``'s own CTR.

``AES_BACKEND`` names what this runtime has; None means no AES at all (see
docs/ble-protocol.md: such a port authenticates every frame but cannot encrypt).
"""
import struct

from swcore.logformat import sha256 as _sha256

try:
    import hmac as _hmac   # CPython
except ImportError:
    _hmac = None

AES_BACKEND = None
_new_ecb = None

try:
    import cryptolib as _cryptolib          # MicroPython

    def _new_ecb(key):
        c = _cryptolib.aes(bytes(key), 1)   # 1 = ECB: only encrypt is used (CTR)

        def encrypt(src):
            out = bytearray(len(src))
            c.encrypt(src, out)
            return out
        return encrypt
    AES_BACKEND = "cryptolib"
except ImportError:
    try:
        import aesio as _aesio              # CircuitPython

        def _new_ecb(key):
            c = _aesio.AES(bytes(key), _aesio.MODE_ECB)

            def encrypt(src):
                out = bytearray(len(src))
                block = bytearray(16)
                mv, mo = memoryview(src), memoryview(out)
                for i in range(0, len(src), 16):   # aesio's ECB takes one block per call
                    c.encrypt_into(mv[i:i + 16], block)
                    mo[i:i + 16] = block
                return out
            return encrypt
        AES_BACKEND = "aesio"
    except ImportError:
        try:
            from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

            def _new_ecb(key):
                enc = Cipher(algorithms.AES(bytes(key)), modes.ECB()).encryptor()

                def encrypt(src):
                    return enc.update(bytes(src))
                return encrypt
            AES_BACKEND = "cryptography"
        except ImportError:
            pass

HASH_BLOCK = 64
TAG_LEN = 16            # HMAC-SHA256 truncated to 128 bits (RFC 2104 section 5)


class HMAC:
    """Incremental HMAC-SHA256: ``update`` as often as needed, then ``digest``."""

    def __init__(self, key, msg=b""):
        if _hmac is not None:
            import hashlib
            self._h = _hmac.new(bytes(key), None, hashlib.sha256)
            self._outer = None
        else:
            if len(key) > HASH_BLOCK:
                key = _sha256(bytes(key)).digest()
            key = bytes(key) + bytes(HASH_BLOCK - len(key))
            self._h = _sha256(bytes(b ^ 0x36 for b in key))
            self._outer = bytes(b ^ 0x5C for b in key)
        if msg:
            self.update(msg)

    def update(self, data):
        self._h.update(data)

    def digest(self):
        if self._outer is None:
            return self._h.digest()
        outer = _sha256(self._outer)
        outer.update(self._h.digest())
        return outer.digest()


def hmac_rfc2104(key, msg):
    """HMAC-SHA256 as the firmware computes it where the runtime has no ``hmac``
    (also used on CPython by the tests that compare it with the standard library)."""
    if len(key) > HASH_BLOCK:
        key = _sha256(bytes(key)).digest()
    key = bytes(key) + bytes(HASH_BLOCK - len(key))
    inner = _sha256(bytes(b ^ 0x36 for b in key))
    inner.update(msg)
    outer = _sha256(bytes(b ^ 0x5C for b in key))
    outer.update(inner.digest())
    return outer.digest()


def hmac_sha256(key, msg):
    return HMAC(key, msg).digest()


def hkdf(ikm, salt, info, length):
    """HKDF-SHA256 (RFC 5869): extract with ``salt``, expand to ``length`` bytes."""
    prk = hmac_sha256(salt if salt else bytes(32), ikm)
    out = b""
    block = b""
    i = 1
    while len(out) < length:
        block = hmac_sha256(prk, block + info + bytes((i,)))
        out += block
        i += 1
    return out[:length]


class CTR:
    """AES-128-CTR with one key: ``xor(icb, data)`` encrypts or decrypts ``data`` with
    the counter blocks ``icb``, ``icb`` + 1, ... (SP 800-38A: a 128-bit big-endian
    increment)."""

    def __init__(self, key):
        if _new_ecb is None:
            raise OSError("this runtime has no AES")
        if len(key) != 16:
            raise ValueError("AES-128 key must be 16 bytes")
        self._ecb = _new_ecb(key)

    def xor(self, icb, data):
        n = len(data)
        if not n:
            return b""
        blocks = (n + 15) // 16
        ctr = bytearray(16 * blocks)
        hi, lo = struct.unpack(">II", icb[8:16])   # low 64 bits as two words (no big ints)
        top = bytes(icb[:8])
        for i in range(blocks):
            ctr[16 * i:16 * i + 16] = top + struct.pack(">II", hi, lo)
            lo += 1
            if lo > 0xFFFFFFFF:
                lo = 0
                hi += 1
                if hi > 0xFFFFFFFF:
                    hi = 0
                    top = _inc64(top)
        ks = self._ecb(ctr)
        out = bytearray(data)
        for i in range(n):
            out[i] ^= ks[i]
        return bytes(out)


def _inc64(b):
    out = bytearray(b)
    i = 7
    while i >= 0:
        out[i] = (out[i] + 1) & 0xFF
        if out[i]:
            break
        i -= 1
    return bytes(out)


def same_bytes(a, b):
    """Compare in time independent of where the first difference is."""
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):
        diff |= a[i] ^ b[i]
    return diff == 0
