"""What every fuzzer shares, on CPython and the MicroPython unix port alike.

``Rng`` is a xorshift generator written out here so both runtimes draw exactly the
same inputs from a seed (the differential fuzzers compare their answers). ``Digest``
folds each case's answer into one SHA-256, with floats by their bits (the two
runtimes print some floats differently; their bits are the same).
"""
import struct

try:
    from hashlib import sha256
except ImportError:
    from swcore.sha256 import sha256


class Rng:
    def __init__(self, seed):
        self.s = (seed * 2654435761 + 0x9E3779B9) & 0xFFFFFFFF or 1
        for _ in range(4):
            self.next()

    def next(self):
        x = self.s
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.s = x
        return x

    def below(self, n):
        """0 <= r < n."""
        return self.next() % n if n > 0 else 0

    def between(self, lo, hi):
        return lo + self.below(hi - lo + 1)

    def chance(self, num, den=100):
        return self.below(den) < num

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def bytes(self, n):
        return bytes(self.below(256) for _ in range(n))


def canon(v, out):
    """Append a canonical byte form of a value (dicts by sorted key, floats by bits)."""
    if v is None:
        out.append(b"N")
    elif v is True or v is False:
        out.append(b"T" if v else b"F")
    elif isinstance(v, int):
        out.append(("i%d;" % v).encode())
    elif isinstance(v, float):
        out.append(b"f" + struct.pack("<d", v))
    elif isinstance(v, str):
        b = v.encode() if not _has_surrogate(v) else repr_bytes(v)
        out.append(("s%d:" % len(b)).encode() + b)
    elif isinstance(v, (bytes, bytearray)):
        out.append(("b%d:" % len(v)).encode() + bytes(v))
    elif isinstance(v, (list, tuple)):
        out.append(b"[")
        for x in v:
            canon(x, out)
        out.append(b"]")
    elif isinstance(v, dict):
        out.append(b"{")
        for k in sorted(v):
            canon(k, out)
            canon(v[k], out)
        out.append(b"}")
    else:
        out.append(b"?" + type(v).__name__.encode())


def _has_surrogate(s):
    try:
        s.encode()
        return False
    except UnicodeError:
        return True


def repr_bytes(s):
    return "".join("\\u%04x" % ord(c) if 0xD800 <= ord(c) <= 0xDFFF else c for c in s).encode("utf-8", "replace")


class Digest:
    def __init__(self):
        self.h = sha256()
        self.cases = 0

    def add(self, value):
        parts = []
        canon(value, parts)
        self.h.update(b"".join(parts))
        self.cases += 1

    def hex(self):
        return "".join("%02x" % b for b in self.h.digest())


def case_hex(value):
    """One case's answer as a short hex string (to find where two runtimes part)."""
    d = Digest()
    d.add(value)
    return d.hex()[:16]
