"""A block device in RAM for MicroPython's VfsLfs2 and VfsFat (the simulated flash).

Implements the extended block protocol (``readblocks``/``writeblocks`` with an
offset, ``ioctl`` with erase), so LittleFS runs on it exactly as on a board's flash.
It counts block writes and erases, and can record every change (``journal``) so a
test can rebuild the flash as it was after any write: the state a power cut at
that moment leaves behind.
"""
IOCTL_BLOCK_COUNT = 4
IOCTL_BLOCK_SIZE = 5
IOCTL_BLOCK_ERASE = 6
ERASED = 0xFF


class RAMBlockDev:
    def __init__(self, block_size=512, blocks=128, journal=False):
        self.block_size = block_size
        self.blocks = blocks
        self.data = bytearray(b"\xff" * (block_size * blocks))
        self.writes = 0
        self.erases = 0
        self.journal = [] if journal else None   # [(offset, bytes)] in order
        self.marks = []        # [(len(journal), label)]: where a test noted progress

    def mark(self, label):
        if self.journal is not None:
            self.marks.append((len(self.journal), label))

    def readblocks(self, block, buf, offset=0):
        a = block * self.block_size + offset
        buf[:] = self.data[a:a + len(buf)]

    def writeblocks(self, block, buf, offset=None):
        if offset is None:  # the simple protocol (VfsFat): whole blocks, erase included
            offset = 0
        a = block * self.block_size + offset
        self.writes += 1
        if self.journal is not None:
            self.journal.append((a, bytes(buf)))
        self.data[a:a + len(buf)] = buf

    def ioctl(self, op, arg):
        if op == IOCTL_BLOCK_COUNT:
            return self.blocks
        if op == IOCTL_BLOCK_SIZE:
            return self.block_size
        if op == IOCTL_BLOCK_ERASE:
            a = arg * self.block_size
            self.erases += 1
            blank = b"\xff" * self.block_size
            if self.journal is not None:
                self.journal.append((a, blank))
            self.data[a:a + self.block_size] = blank
            return 0
        return 0


def replay(size, journal, n, base=None):
    """The flash image after the first ``n`` journal entries, from ``base`` (erased
    when None)."""
    data = bytearray(base) if base is not None else bytearray(b"\xff" * size)
    for i in range(n):
        a, b = journal[i]
        data[a:a + len(b)] = b
    return data

