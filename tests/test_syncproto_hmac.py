"""The firmware's own HMAC-SHA256 gives the standard library's digests."""
import hashlib
import hmac
import random

from swcore import syncproto as sp


def test_hmac_matches_cpython_for_many_keys_and_messages():
    rnd = random.Random(5)
    for key_len in (0, 1, 16, 32, 63, 64, 65, 200):
        for msg_len in (0, 1, 55, 64, 300):
            key = rnd.randbytes(key_len)
            msg = rnd.randbytes(msg_len)
            assert sp.hmac_sha256(key, msg) == hmac.new(key, msg, hashlib.sha256).digest()


def test_proofs_differ_by_direction():
    key, hn, dn = bytes(32), bytes(range(16)), bytes(range(16, 32))
    assert sp.device_proof(key, hn, dn) != sp.host_proof(key, hn, dn)
    assert sp.host_proof(key, hn, dn) == hmac.new(key, sp.HOST_LABEL + dn + hn, hashlib.sha256).digest()
