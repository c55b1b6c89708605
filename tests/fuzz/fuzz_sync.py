"""Sync fuzzer: a device's sync server under an owner and an attacker (both runtimes).

Each case is a few connections to one ``SyncServer``. On some the owner (who holds the
key) logs in and lists, reads, acknowledges (with the proof over the bytes it read),
sets the clock and uploads plans; an attacker, keyless, sends random bytes, protocol-1
frames, handshakes with a wrong key, and every kind of edit of the owner's frames it
saw: replayed, bit-flipped, cut, extended, re-labelled, reordered, from an earlier
connection, or reflected from the device's own direction. Oracles, after every frame:
the server never raises; the store and the plans change exactly as the owner's
accepted requests say (no unauthenticated state change); every attacker frame after
the handshake is refused; the device's frames open with the owner's keys and strictly
rising counters; the reply queue stays bounded.

    python tests/fuzz/fuzz_sync.py SEED CASES       (or through tests/fuzz/run.py)
"""
import json
import struct
import sys

sys.path.append((__file__.rsplit("/", 1)[0] if "/" in __file__ else ".") + "/../firmware")  # memstore, synchost

from swcore import syncproto as sp  # noqa: E402
from memstore import MemStore  # noqa: E402
from synchost import DEV_ID, KEY, Counter, Host  # noqa: E402

DIFFERENTIAL = True      # statuses and state only: both runtimes must agree exactly


class Rng:
    """xorshift32, the same draws on every runtime."""

    def __init__(self, seed):
        self.s = (seed * 2654435761 + 0x9E3779B9) & 0xFFFFFFFF or 1

    def next(self):
        x = self.s
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.s = x
        return x

    def below(self, n):
        return self.next() % n if n > 0 else 0

    def chance(self, pct):
        return self.below(100) < pct

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def bytes(self, n):
        return bytes(self.below(256) for _ in range(n))


class Clock:
    def __init__(self):
        self.t = 0

    def __call__(self):
        return self.t


PLAN = json.dumps({"name": "Fuzz", "sets": [{"name": "S", "steps": [
    {"name": "Go", "kind": "timed", "duration_s": 10}]}]})
REFUSED = (sp.E_BAD_TAG, sp.E_REPLAY, sp.E_MALFORMED, sp.E_UNKNOWN_OP, sp.E_TOO_LARGE, sp.E_VERSION)


class Case:
    def __init__(self, rng):
        self.rng = rng
        self.store = MemStore([rng.below(1500) + 1 for _ in range(rng.below(4) + 1)])
        self.plans = []
        self.clock = Clock()
        self.server = sp.SyncServer(self.store, (DEV_ID, KEY), Counter(rng.below(1000)), self.plans.append,
                                    {"name": "F"}, lambda: 50, clock=self.clock)
        self.want_acked = set()
        self.want_clock = None
        self.want_plans = []
        self.seen = []          # frames the attacker captured (every connection)
        self.log = []           # statuses, for the digest

    # -- oracles
    def check(self):
        s = self.server
        assert self.store.acked == self.want_acked, "acked %r, expected %r" % (self.store.acked, self.want_acked)
        assert self.store.clock == self.want_clock, "clock %r, expected %r" % (self.store.clock, self.want_clock)
        assert self.plans == self.want_plans, "a plan nobody uploaded"
        assert s.out_bytes <= sp.MAX_OUTBOX + 1100, "reply queue grew to %d" % s.out_bytes
        assert len(s.events) <= sp.EVENT_LOG

    def deliver(self, host, frame, attacker, on_ok=None):
        """One frame into the server; ``on_ok()`` updates the model when it is accepted."""
        self.seen.append(bytes(frame))
        got = host.send(frame)
        statuses = [g[1] for g in got if g[0] & sp.RESPONSE]
        self.log.append(statuses)
        if on_ok is not None and statuses and statuses[-1] == sp.OK:
            on_ok()
        if attacker and host.channel is not None:
            assert statuses and all(st in REFUSED for st in statuses), \
                "attacker frame %s answered %r" % (bytes(frame[:12]).hex(), statuses)
        self.check()
        return got

    def attack(self, host):
        rng = self.rng
        kind = rng.below(10)
        if kind == 0 or not self.seen:
            frame = rng.bytes(rng.below(40))
        elif kind == 1:
            frame = bytes((rng.pick(sp.V1_OPS), rng.below(256))) + struct.pack("<H", 4) + rng.bytes(4)
        elif kind == 2:
            frame = sp.request(rng.pick(sp.OPS), rng.bytes(rng.pick((0, 4, 12, 16, 32, 36))))
        else:
            frame = bytearray(rng.pick(self.seen))
            edit = rng.below(6)
            if edit == 0 and frame:
                i = rng.below(len(frame))
                frame[i] ^= 1 << rng.below(8)
            elif edit == 1 and len(frame) > 1:
                frame = frame[:rng.below(len(frame))]
            elif edit == 2:
                frame += rng.bytes(rng.below(8) + 1)
            elif edit == 3 and frame:
                frame[0] = rng.pick(sp.OPS)
            elif edit == 4 and len(frame) >= 8:
                struct.pack_into("<I", frame, 4, rng.next())
            # edit 5: replayed as it was
            frame = bytes(frame)
        if host.channel is None and self.server._is_v1(frame):
            # answered in protocol 1's framing (for old laptops): not a v2 frame to parse
            self.seen.append(frame)
            self.server.handle(frame)
            raw = b"".join(host.pieces())
            assert raw[2] == sp.E_VERSION
            self.log.append([sp.E_VERSION])
            self.check()
            return
        return self.deliver(host, frame, attacker=True)

    def owner_step(self, host):
        rng = self.rng
        sessions = self.store.sessions()
        op = rng.below(7)
        if op == 0:
            st, body, _ = host.call(sp.OP_LIST)
            assert st == sp.OK and sp.list_entries(body)[0] == sessions
        elif op in (1, 2) and sessions:
            sid, size, _d = rng.pick(sessions)
            frame, ctr = host.seal(sp.OP_READ, struct.pack("<III", sid, 0, 0))
            got = self.deliver(host, frame, attacker=False)
            data = b"".join(c for _o, c in Host.chunks([g for g in got if g[0] == sp.DATA and g[2] == ctr]))
            assert data == self.store.data[sid]
            if op == 2 or rng.chance(50):
                good = rng.chance(80)
                payload = host.ack_payload(sid, data if good else data[:-1] + bytes((data[-1] ^ 1,)))
                frame, ctr = host.seal(sp.OP_ACK, payload)
                self.owner_send(host, frame, sp.OK if good else sp.E_BAD_PROOF,
                                on_ok=lambda: self.want_acked.add(sid))
        elif op == 3:
            t = rng.pick((sp.CLOCK_MIN - 1, sp.CLOCK_MIN, 1790000000 + rng.below(1000), 0xFFFFFFFF))
            frame, _ = host.seal(sp.OP_SET_CLOCK, struct.pack("<I", t))
            ok = sp.CLOCK_MIN <= t <= sp.CLOCK_MAX
            self.owner_send(host, frame, sp.OK if ok else sp.E_RANGE, on_ok=lambda: self._clock(t))
        elif op == 4:
            data = PLAN.encode()
            self.owner_send(host, host.seal(sp.OP_PLAN_BEGIN, struct.pack("<II", len(data), sp.crc32(data)))[0], sp.OK)
            self.owner_send(host, host.seal(sp.OP_PLAN_DATA, struct.pack("<I", 0) + data)[0], sp.OK)
            self.owner_send(host, host.seal(sp.OP_PLAN_COMMIT)[0], sp.OK, on_ok=lambda: self.want_plans.append(PLAN))
        elif op == 5:
            # reordered: the second frame arrives first, the first is then a replay
            a, _ = host.seal(sp.OP_STATUS)
            t = 1790001000 + rng.below(1000)
            b, _ = host.seal(sp.OP_SET_CLOCK, struct.pack("<I", t))
            self.owner_send(host, b, sp.OK, on_ok=lambda: self._clock(t))
            self.deliver(host, a, attacker=True)
        else:
            self.owner_send(host, host.seal(sp.OP_STATUS)[0], sp.OK)

    def _clock(self, t):
        self.want_clock = t

    def owner_send(self, host, frame, want, on_ok=None):
        got = self.deliver(host, frame, attacker=False, on_ok=on_ok)
        statuses = [g[1] for g in got if g[0] & sp.RESPONSE]
        assert statuses[-1] == want, "owner request answered %r, expected %d" % (statuses, want)
        return got

    def connection(self):
        rng = self.rng
        s = self.server
        s.disconnect()
        self.clock.t += sp.PENALTY_MS + sp.BACKOFF_MAX_MS
        s.connect(rng.pick((23, 64, 185, 517)))
        owner = Host(s)
        attacker = Host(s, key=bytes(32))
        steps = rng.below(12) + 1
        if rng.chance(70):                       # the owner's connection
            if rng.chance(30):
                for _ in range(rng.below(3)):
                    self.attack(attacker)
            assert owner.login() == sp.OK
            for _ in range(steps):
                if rng.chance(40):
                    self.attack(owner)           # injected into the owner's link
                else:
                    self.owner_step(owner)
        else:                                     # a stranger's
            for _ in range(steps):
                if rng.chance(20):
                    attacker.login()
                    self.check()
                else:
                    self.attack(attacker)
            if rng.chance(50):
                self.clock.t += sp.UNAUTH_TIMEOUT_MS
                assert s.poll() is not None, "a stranger is dropped after its seconds"


def run(seed, cases, verbose=False):
    from swcore.logformat import sha256
    digest = sha256()
    for i in range(cases):
        rng = Rng(seed * 1000003 + i)
        case = Case(rng)
        for _ in range(rng.below(4) + 1):
            case.connection()
        line = "%d %s acked=%s clock=%s plans=%d" % (i, case.log, sorted(case.store.acked), case.store.clock,
                                                     len(case.plans))
        if verbose:
            print(line)
        digest.update(line.encode())
    return "".join("%02x" % b for b in digest.digest())


if __name__ == "__main__":
    import sys
    print("DIGEST %s" % run(int(sys.argv[1]), int(sys.argv[2]), "-v" in sys.argv))
