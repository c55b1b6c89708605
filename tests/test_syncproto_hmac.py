"""The firmware's own HMAC-SHA256 (used where a runtime has no ``hmac`` module) and its
HKDF give the standard library's results; the handshake's proofs are the documented ones."""
import hashlib
import hmac
import random

from swcore import synccrypto as sc
from swcore import syncproto as sp


def test_firmware_hmac_matches_cpython_for_many_keys_and_messages():
    rnd = random.Random(5)
    for key_len in (0, 1, 16, 32, 63, 64, 65, 200):
        for msg_len in (0, 1, 55, 64, 300):
            key = rnd.randbytes(key_len)
            msg = rnd.randbytes(msg_len)
            want = hmac.new(key, msg, hashlib.sha256).digest()
            assert sc.hmac_rfc2104(key, msg) == want
            h = sc.HMAC(key)
            h.update(msg[:7])
            h.update(msg[7:])
            assert h.digest() == want


def test_hkdf_is_rfc5869_over_cpython_hmac():
    ikm, salt, info = bytes(32), bytes(range(32)), b"sprintwatch-v2-keys\x01"
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    t1 = hmac.new(prk, info + b"\x01", hashlib.sha256).digest()
    t2 = hmac.new(prk, t1 + info + b"\x02", hashlib.sha256).digest()
    assert sc.hkdf(ikm, salt, info, 64) == t1 + t2


def test_proofs_differ_by_direction_and_bind_suite_and_id():
    key, hn, dn = bytes(32), bytes(range(16)), bytes(range(16, 32))
    dev = sp.device_proof(key, hn, dn, 1, "sw-1")
    assert dev != sp.host_proof(key, hn, dn, 1)
    assert dev != sp.device_proof(key, hn, dn, 0, "sw-1"), "a downgraded suite changes the proof"
    assert dev != sp.device_proof(key, hn, dn, 1, "sw-2")
    assert sp.host_proof(key, hn, dn, 1) == hmac.new(key, sp.HOST_LABEL + dn + hn + b"\x01", hashlib.sha256).digest()


def test_aes_ctr_matches_the_cryptography_package():
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    rnd = random.Random(7)
    for n in (1, 15, 16, 17, 482, 1000):
        key, icb, data = rnd.randbytes(16), rnd.randbytes(16), rnd.randbytes(n)
        want = Cipher(algorithms.AES(key), modes.CTR(icb)).encryptor().update(data)
        assert sc.CTR(key).xor(icb, data) == want
