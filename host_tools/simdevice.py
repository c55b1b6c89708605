"""A simulated Sprintwatch on a Bumble virtual controller: the firmware's own BLE code.

``swrt.ble_mp`` and ``swcore.syncproto`` run unchanged on CPython through
``host_tools.mpbluetooth`` (MicroPython's ``bluetooth`` API on Bumble). A pump task
calls ``SyncPeripheral.service()`` as the board's main loop does.
"""
import asyncio
import importlib
import os
import time

from bumble.controller import Controller
from bumble.device import Device
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from host_tools import firmware  # noqa: F401
from host_tools import mpbluetooth
from swcore import syncproto as sp

DEVICE_ADDRESS = "C0:11:22:33:44:55"
IDLE_POLL_S = 0.002


def sim_clock_ms():
    return int(time.monotonic() * 1000)


class SimDevice:
    """``store`` has the log store API; ``key`` is ``(device_id, secret)`` or None."""

    def __init__(self, store, key, link=None, install_plan=None, name="Sprintwatch", battery_pct=80,
                 **server_options):
        self.link = link or LocalLink()
        self.store = store
        self.key = key
        self.install_plan = install_plan
        self.name = name
        self.battery_pct = battery_pct
        self.server_options = server_options   # SyncServer keywords (timeouts, suite, on_event)
        self.ble = None
        self.peripheral = None
        self._pump_task = None

    async def start(self):
        controller = Controller("device", link=self.link, public_address=DEVICE_ADDRESS)
        device = Device(name=self.name, address=Address(DEVICE_ADDRESS),
                        host=Host(controller, AsyncPipeSink(controller)))
        await device.power_on()
        mpbluetooth.install(device)
        import swrt.ble_mp as ble_mp  # imports ``bluetooth``: after install
        if ble_mp.bluetooth is not mpbluetooth:  # imported before over another stand-in
            ble_mp = importlib.reload(ble_mp)
        server = sp.SyncServer(self.store, self.key, os.urandom, self.install_plan,
                               {"name": self.name, "fw": firmware.firmware_version(), "board": "sim"},
                               lambda: self.battery_pct,
                               clock=sim_clock_ms, **self.server_options)
        self.peripheral = ble_mp.SyncPeripheral(server, name=self.name, model="sim", firmware=firmware.firmware_version())
        self.peripheral.start(battery_pct=self.battery_pct)
        self.ble = self.peripheral.ble
        self._pump_task = asyncio.get_running_loop().create_task(self._pump())
        return self

    async def _pump(self):
        while True:
            more = self.peripheral.service()
            await asyncio.sleep(0 if more else IDLE_POLL_S)

    async def stop(self):
        if self._pump_task is not None:
            self._pump_task.cancel()
            try:
                await self._pump_task
            except asyncio.CancelledError:
                pass
