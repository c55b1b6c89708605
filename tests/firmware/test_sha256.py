"""The pure-Python SHA-256 fallback gives hashlib's digests (CPython's and MicroPython's)."""
import hashlib

from swcore.sha256 import sha256


def _inputs():
    yield b""
    yield b"abc"
    yield b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
    for n in (55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000):
        yield bytes((i * 7 + n) & 0xFF for i in range(n))


def test_digests_match_hashlib():
    for data in _inputs():
        assert sha256(data).digest() == hashlib.sha256(data).digest(), len(data)


def test_known_answer():
    # FIPS 180-4 example "abc"
    assert sha256(b"abc").hexdigest() == \
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_updates_in_pieces_give_the_same_digest():
    data = bytes(range(256)) * 3
    for step in (1, 7, 63, 64, 65, 200):
        h = sha256()
        for k in range(0, len(data), step):
            h.update(data[k:k + step])
        assert h.digest() == hashlib.sha256(data).digest(), step


def test_digest_can_be_taken_twice_and_updating_goes_on():
    h = sha256(b"hello ")
    first = h.digest()
    assert h.digest() == first
    h.update(b"world")
    assert h.digest() == hashlib.sha256(b"hello world").digest()


def test_the_sync_handshake_gives_the_same_proofs_with_the_fallback():
    from swcore import synccrypto
    key = bytes(range(32))
    msgs = (b"", b"sprintwatch-v2-device" + bytes(32), bytes(200))
    want = [synccrypto.hmac_sha256(key, m) for m in msgs]
    saved = synccrypto._sha256
    synccrypto._sha256 = sha256
    try:
        got = [synccrypto.hmac_rfc2104(key, m) for m in msgs]
        long_key = synccrypto.hmac_rfc2104(bytes(100), b"x")
    finally:
        synccrypto._sha256 = saved
    assert got == want
    assert long_key == synccrypto.hmac_sha256(bytes(100), b"x")
