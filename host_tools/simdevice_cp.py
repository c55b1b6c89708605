"""A simulated CircuitPython Sprintwatch (CPB, CLUE) on a Bumble virtual controller.

The unchanged ``adafruit_ble`` library (``.cplib/``) and ``swrt.ble_cp`` run on
CPython over ``host_tools.bleio_bumble`` (CircuitPython's ``_bleio`` on Bumble); a
pump task calls ``SyncPeripheral.service()`` as the board's asyncio task does. Same
interface as ``host_tools.simdevice.SimDevice``, so the same host client and tests
drive either.
"""
import asyncio
import importlib
import os
import time
import sys

from bumble.controller import Controller
from bumble.device import Device
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from host_tools import bleio_bumble, cplibs
from host_tools import firmware  # noqa: F401  (puts firmware/ on sys.path)
from swcore import syncproto as sp

DEVICE_ADDRESS = "C0:11:22:33:44:66"
IDLE_POLL_S = 0.002


def sim_clock_ms():
    return int(time.monotonic() * 1000)


def _fresh_modules():
    """adafruit_ble and swrt.ble_cp bound to the _bleio installed last (one per device)."""
    for name in list(sys.modules):
        if name == "adafruit_ble" or name.startswith("adafruit_ble.") or name == "swrt.ble_cp":
            del sys.modules[name]
    return importlib.import_module("swrt.ble_cp")


class CPSimDevice:
    """``store`` has the log store API; ``key`` is ``(device_id, secret)`` or None."""

    def __init__(self, store, key, link=None, install_plan=None, name="Sprintwatch",
                 battery_pct=80, board="clue", **server_options):
        self.link = link or LocalLink()
        self.store = store
        self.key = key
        self.install_plan = install_plan
        self.name = name
        self.board = board
        self.battery_pct = battery_pct
        self.server_options = server_options   # SyncServer keywords (timeouts, suite, on_event)
        self.ble = None             # the _bleio adapter (faults, counters)
        self.peripheral = None
        self._pump_task = None
        self.paused = False         # True: the firmware's loop is busy elsewhere (tests)

    async def start(self):
        controller = Controller("device", link=self.link, public_address=DEVICE_ADDRESS)
        device = Device(name=self.name, address=Address(DEVICE_ADDRESS),
                        host=Host(controller, AsyncPipeSink(controller)))
        await device.power_on()
        self.ble = bleio_bumble.install(device)
        cplibs.on_path()
        ble_cp = _fresh_modules()
        server = sp.SyncServer(self.store, self.key, os.urandom, self.install_plan,
                               {"name": self.name, "fw": firmware.firmware_version(), "board": self.board},
                               lambda: self.battery_pct,
                               clock=sim_clock_ms, **self.server_options)
        self.peripheral = ble_cp.SyncPeripheral(server, name=self.name, model=self.board,
                                                firmware=firmware.firmware_version())
        self.peripheral.start(battery_pct=self.battery_pct)
        self._pump_task = asyncio.get_running_loop().create_task(self._pump())
        return self

    async def _pump(self):
        while True:
            more = False if self.paused else self.peripheral.service()
            await asyncio.sleep(0 if more else IDLE_POLL_S)

    async def stop(self):
        if self._pump_task is not None:
            self._pump_task.cancel()
            try:
                await self._pump_task
            except asyncio.CancelledError:
                pass


def sim_device_factory(board_name):
    """``factory(store, key, install_plan=...)`` simulating ``board_name`` (boards/NAME.json):
    CircuitPython boards run adafruit_ble (CPSimDevice), MicroPython ones ``bluetooth``."""
    import json
    from host_tools.firmware import BOARDS_DIR
    from host_tools.simdevice import SimDevice
    path = BOARDS_DIR / ("%s.json" % board_name)
    if not path.exists():
        known = sorted(p.stem for p in BOARDS_DIR.glob("*.json"))
        raise SystemExit("error: unknown board %r (known: %s)" % (board_name, ", ".join(known)))
    spec = json.loads(path.read_text())
    if spec.get("runtime") == "circuitpython":
        return lambda store, key, **kw: CPSimDevice(store, key, board=board_name, **kw)
    if not spec.get("ble"):
        raise SystemExit("error: board %r has no Bluetooth" % board_name)
    return SimDevice
