"""BLE sync over the virtual link: payload bytes per ATT byte, and time to sync 50 sessions.

The device is the firmware's own BLE and sync code on a Bumble controller; the host is
the real sync client on another. Time is wall-clock for this process (the Python
Bluetooth stack is the bottleneck, not a radio), so it compares builds, not radios.
"""
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from host_tools import device_keys, simstore, sync  # noqa: E402
from host_tools.sessiondb import SessionDB  # noqa: E402
from host_tools.simdevice import SimDevice  # noqa: E402
from host_tools.transport_bumble import BumbleTransport  # noqa: E402
from swcore.syncproto import CHUNK  # noqa: E402

SESSIONS = 50


async def one(mtu, folder):
    db = SessionDB(Path(folder) / ("mtu%d.db" % mtu))
    dev_id, key, _ = device_keys.provision(db, "sw-bench")
    shutil.copytree(Path(folder) / "flash", Path(folder) / ("flash%d" % mtu))   # same sessions each run
    store = simstore.open_store(Path(folder) / ("flash%d" % mtu))
    dev = await SimDevice(store, (dev_id, key)).start()
    transport = BumbleTransport(dev.link, max_mtu=mtu)
    t0 = time.perf_counter()
    report = await sync.sync(transport, db)
    elapsed = time.perf_counter() - t0
    await dev.stop()
    payload = sum(size for _, size in report.synced)
    att = dev.ble.att_bytes_out + transport.att_bytes_out
    assert len(report.synced) == SESSIONS
    return payload, att, elapsed


MEMORY_SCRIPT = """
import gc, fakeble
fakeble.install()
gc.collect(); a = gc.mem_alloc()
from swcore import syncproto
from swrt import ble_mp
gc.collect(); b = gc.mem_alloc()
import memstore
server = syncproto.SyncServer(memstore.MemStore([100]), ("sw-x", bytes(32)), lambda n: bytes(n))
p = ble_mp.SyncPeripheral(server, ble=fakeble.BLE())
p.start()
gc.collect(); c = gc.mem_alloc()
import time
keys = syncproto.Keys(bytes(32), bytes(16), bytes(16), syncproto.LOCAL_SUITE)
ch = syncproto.Channel(keys, syncproto.DIR_DEVICE)
chunk = bytes(4 + 4 + syncproto.CHUNK)
t0 = time.ticks_us()
for i in range(100):
    ch.seal(syncproto.DATA, 0, chunk)
us = time.ticks_diff(time.ticks_us(), t0)
print(b - a, c - b, us / 100)
"""


def memory():
    """Heap taken on the MicroPython unix port by the sync code (as .py) and a started service."""
    import subprocess
    from host_tools import firmware
    tests = Path(__file__).resolve().parent.parent / "tests" / "firmware"
    proc = subprocess.run([firmware.micropython_exe(), "-X", "heapsize=4M", "-c", MEMORY_SCRIPT],
                          env=firmware.micropython_env([tests]), capture_output=True, text=True, cwd=tests)
    code, state, crypt_us = proc.stdout.split()
    print("heap on the unix port: sync code %s bytes (imported as .py), a started service %s bytes"
          % (code, state))
    print("sealing one DATA frame (%d session bytes: AES-128-CTR + HMAC-SHA256) on the unix port: %.0f us"
          % (CHUNK, float(crypt_us)))


def main():
    memory()
    with tempfile.TemporaryDirectory() as folder:
        store = simstore.open_store(Path(folder) / "flash")
        simstore.fill(store, SESSIONS)
        sizes = [s[1] for s in store.sessions()]
        print("sessions: %d default sessions run on the simulated board, %d-%d bytes each"
              % (len(sizes), min(sizes), max(sizes)))
        print("%6s %10s %10s %18s %10s" % ("mtu", "payload B", "ATT B", "payload/ATT byte", "sync s"))
        for mtu in (23, 247, 517):
            payload, att, elapsed = asyncio.run(one(mtu, folder))
            print("%6d %10d %10d %18.3f %10.2f" % (mtu, payload, att, payload / att, elapsed))


if __name__ == "__main__":
    main()
