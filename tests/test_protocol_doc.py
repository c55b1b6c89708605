"""docs/ble-protocol.md is what a client is written from: its UUIDs, statuses, limits
and test vectors must be what the code does."""
import re
import struct
from pathlib import Path

from swcore import syncproto as sp

DOC = (Path(__file__).resolve().parent.parent / "docs" / "ble-protocol.md").read_text()


def test_full_uuids_are_given():
    for uuid in (sp.SERVICE_UUID, sp.RX_UUID, sp.TX_UUID):
        assert "`%s`" % uuid in DOC
    assert " ".join("%02x" % b for b in sp.uuid_bytes(sp.SERVICE_UUID)) in DOC


def test_every_status_is_in_the_table_with_its_code():
    rows = dict(re.findall(r"^\| (\d+) \| ([a-z-]+) \|", DOC, re.M))
    assert {int(k): v for k, v in rows.items()} == sp.STATUS_NAMES


def test_limits_and_timeouts_are_the_code_s():
    def num(n):
        return ("{:,}".format(n)).replace(",", " ")
    for n in (sp.CHUNK, sp.MAX_REQUEST, sp.MAX_OUTBOX, sp.MAX_PLAN, sp.CLOCK_MIN, sp.CLOCK_MAX,
              sp.MAX_DEVICE_BODY + sp.REQ_PREFIX + sp.TAG_LEN, sp.MAX_REQUEST - sp.HEADER - sp.TAG_LEN - 4):
        assert num(n) in DOC or str(n) in DOC, n
    assert "%d s after it was made" % (sp.UNAUTH_TIMEOUT_MS // 1000) in DOC
    assert "for %d s" % (sp.PENALTY_MS // 1000) in DOC
    assert "%d s (and nothing streaming)" % (sp.IDLE_TIMEOUT_MS // 1000) in DOC
    assert "at most %d s" % (sp.BACKOFF_MAX_MS // 1000) in DOC
    for label in (sp.DEV_LABEL, sp.HOST_LABEL, sp.KEYS_LABEL, sp.ACK_LABEL):
        assert '"%s"' % label.decode() in DOC


def test_vectors_in_the_document_are_what_the_code_computes():
    key, dev = bytes(range(32)), "sw-1a2b3c4d"
    hn, dn = bytes(range(0x10, 0x20)), bytes(range(0xA0, 0xB0))
    keys = sp.Keys(key, hn, dn, 1)
    host, device = sp.Channel(keys, sp.DIR_HOST), sp.Channel(keys, sp.DIR_DEVICE)
    want = [sp.device_proof(key, hn, dn, 1, dev), sp.host_proof(key, hn, dn, 1),
            keys.enc_host, keys.enc_device, keys.mac_host, keys.mac_device, keys.ack,
            host.seal(sp.OP_LIST, 0, b""),
            host.seal(sp.OP_READ, 0, struct.pack("<III", 1, 0, 0)),
            device.seal(sp.OP_LIST | sp.RESPONSE, 0, struct.pack("<I", 1) + bytes([1, 0])
                        + struct.pack("<III", 1, 50, 0x11223344)),
            sp.ack_proof(keys.ack, 1, 50, [bytes(range(50))])]
    for value in want:
        assert value.hex() in DOC, value.hex()
    # and a reader of the document can open what it shows
    kind, status, ctr, plain = sp.Channel(keys, sp.DIR_HOST).open(want[9])
    assert (kind, ctr, sp.list_entries(plain[4:])[0]) == (0x90, 1, [(1, 50, 0x11223344)])
