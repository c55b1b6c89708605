"""Accelerometer drivers on the MicroPython unix port: CPU per sample, heap per read.

The bus is a stub that answers instantly (FIFO always holding a full batch of fixed
bytes), so the figures are the driver's own work: decoding, scaling and the stuck
check; on a board add the I2C transfer (6 or 14 bytes a sample at 400 kHz: about
0.15 or 0.35 ms) and a slower CPU.
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from host_tools import firmware  # noqa: E402

PROBE = r"""
import array, gc, time
from drivers.lis3dh import LIS3DH
from drivers.mpu6886 import MPU6886
from drivers.bmi160 import BMI160

class InstantBus:
    # WHO_AM_I/CHIP_ID right, PMU normal, FIFO counts full, data bytes varying
    def __init__(self, ident, ident_reg, count_regs):
        self.ident = ident; self.ident_reg = ident_reg; self.count_regs = count_regs; self.k = 0
    def readfrom_mem_into(self, addr, reg, buf):
        if reg == self.ident_reg:
            buf[0] = self.ident
        elif reg == 0x03:
            buf[0] = 0x10
        elif reg in self.count_regs:
            for i in range(len(buf)):
                buf[i] = self.count_regs[reg][i]
        elif reg == 0x02:
            buf[0] = 0
        else:
            self.k = (self.k + 1) & 0x3F
            buf[0] = self.k            # varies, so the stuck check never trips
    def writeto_mem(self, addr, reg, buf):
        pass

def nodelay(ms):
    pass

cases = (
    ("lis3dh", LIS3DH, InstantBus(0x33, 0x0F, {0x2F: b"\x1f"}), 0x18),
    ("mpu6886", MPU6886, InstantBus(0x19, 0x75, {0x72: bytes((0x01, 0xF8))}), 0x68),
    ("bmi160", BMI160, InstantBus(0xD1, 0x00, {0x22: bytes((0x80, 0x01))}), 0x68),
)
import micropython
for name, cls, bus, addr in cases:
    drv = cls(bus, addr, rate_hz=50, delay_ms=nodelay)
    samples = array.array("h", [0] * 3 * drv.max_batch)
    n = drv.read_into(samples)
    reads = 1000
    t0 = time.ticks_us()
    for _ in range(reads):
        drv.read_into(samples)
    dt = time.ticks_diff(time.ticks_us(), t0)
    free = "NO"                    # globals get their keys before the heap is locked
    micropython.heap_lock()
    try:
        for _ in range(100):
            drv.read_into(samples)
        free = "yes"
    except MemoryError:
        pass
    micropython.heap_unlock()
    print("%-8s %3d samples/read  %5.2f us/sample  allocation-free under heap_lock: %s"
          % (name, n, dt / (reads * n), free))
"""


def main():
    env = firmware.micropython_env()
    proc = subprocess.run([firmware.micropython_exe(), "-c", PROBE], env=env,
                          capture_output=True, text=True)
    print(proc.stdout, end="")
    if proc.returncode:
        print(proc.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
