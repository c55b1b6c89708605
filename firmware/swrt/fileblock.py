"""The simulator's flash: a block device kept in a host file (see swrt.ramblock for
the protocol), so that it costs the simulated board no heap, as a real board's
flash is not in its RAM either."""
IOCTL_SYNC = 3
IOCTL_BLOCK_COUNT = 4
IOCTL_BLOCK_SIZE = 5
IOCTL_BLOCK_ERASE = 6


class FileBlockDev:
    """``blocks`` erased blocks of ``block_size`` bytes in the file ``path``."""

    def __init__(self, path, block_size=4096, blocks=64):
        self.block_size = block_size
        self.blocks = blocks
        self.writes = 0
        self.erases = 0
        self.f = open(path, "w+b")
        self.blank = b"\xff" * 256     # erased flash, written in small pieces: no big buffer
        for _ in range(blocks):
            self._erase(_)
        self.f.flush()

    def _erase(self, block):
        self.f.seek(block * self.block_size)
        for _ in range(self.block_size // 256):
            self.f.write(self.blank)

    def readblocks(self, block, buf, offset=0):
        self.f.seek(block * self.block_size + offset)
        self.f.readinto(buf)

    def writeblocks(self, block, buf, offset=None):
        self.writes += 1
        self.f.seek(block * self.block_size + (offset or 0))
        self.f.write(buf)

    def ioctl(self, op, arg):
        if op == IOCTL_BLOCK_COUNT:
            return self.blocks
        if op == IOCTL_BLOCK_SIZE:
            return self.block_size
        if op == IOCTL_BLOCK_ERASE:
            self.erases += 1
            self._erase(arg)
            return 0
        if op == IOCTL_SYNC:
            self.f.flush()
        return 0
