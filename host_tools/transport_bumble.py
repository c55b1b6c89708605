"""Sync transport over a Bumble virtual controller (tests and ``sync --sim``).

The host gets its own controller on the same ``LocalLink`` as the simulated device,
scans for the sync service's advertisement, connects, asks for the largest MTU and
subscribes to TX: what a laptop does over a real radio.
"""
import asyncio

from bumble.controller import Controller
from bumble.core import UUID
from bumble.device import Device, Peer
from bumble.hci import Address
from bumble.host import Host
from bumble.transport.common import AsyncPipeSink

from host_tools import firmware  # noqa: F401
from host_tools.transport import LinkLost, Transport
from swcore import syncproto as sp

HOST_ADDRESS = "F0:F1:F2:F3:F4:F5"
MAX_MTU = 517


class BumbleTransport(Transport):
    def __init__(self, link, address=None, scan_timeout=5.0, max_mtu=MAX_MTU, host_address=HOST_ADDRESS,
                 subscribe=True, pair=False):
        super().__init__()
        self.pair = pair                  # ask for LE Secure Connections pairing (bonding)
        self.link_encrypted = False
        self.bonded = False
        self.security_step = None         # "paired" (first time) or "bond" (encrypted with it)
        self.security_error = None
        self.peer_address = None
        self.max_mtu = max_mtu
        self.host_address = host_address
        self.auto_subscribe = subscribe   # False: connect() leaves the CCCD alone (tests)
        self.link = link
        self.address = address
        self.scan_timeout = scan_timeout
        self.device = None
        self.connection = None
        self.att_bytes_out = 0   # write requests and their responses, ATT headers included
        self.writes = 0

    async def _power_on(self):
        controller = Controller("host", link=self.link, public_address=self.host_address)
        self.device = Device(name="sprintwatch-host", address=Address(self.host_address),
                             host=Host(controller, AsyncPipeSink(controller)))
        self.device.gatt_server.max_mtu = self.max_mtu   # also caps a device-initiated exchange
        await self.device.power_on()

    async def _scan(self):
        want = bytes(UUID(sp.SERVICE_UUID))
        found = asyncio.get_running_loop().create_future()

        def on_adv(adv):
            if want in adv.data_bytes and not found.done():
                found.set_result(adv.address)
        self.device.on("advertisement", on_adv)
        await self.device.start_scanning(filter_duplicates=False)
        try:
            return await asyncio.wait_for(found, self.scan_timeout)
        except asyncio.TimeoutError:
            raise LinkLost("no Sprintwatch advertising nearby")
        finally:
            self.device.remove_listener("advertisement", on_adv)
            await self.device.stop_scanning()

    async def connect(self):
        self._reset()
        if self.device is None:
            await self._power_on()
        target = self.address or await self._scan()
        self.description = str(target)
        try:
            conn = await self.device.connect(target, timeout=self.scan_timeout)
        except Exception as e:
            raise LinkLost("cannot connect to %s: %s" % (target, e))
        self.connection = conn
        conn.on(conn.EVENT_DISCONNECTION, self._disconnected)
        try:
            if self.pair:
                await self._secure(conn)
            peer = Peer(conn)
            await peer.request_mtu(self.max_mtu)
            self.mtu = conn.att_mtu
            services = await peer.discover_service(sp.SERVICE_UUID)
            if not services:
                raise LinkLost("%s has no Sprintwatch sync service" % target)
            chars = await peer.discover_characteristics(service=services[0])
            by_uuid = {str(c.uuid).upper(): c for c in chars}
            self.rx = by_uuid[sp.RX_UUID.upper()]
            self.tx = by_uuid[sp.TX_UUID.upper()]
            await peer.discover_descriptors(self.tx)
            self.peer = peer
            if self.auto_subscribe:
                await self.subscribe()
        except LinkLost:
            raise
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            raise LinkLost("the device dropped the link while it was being set up")
        except Exception as e:
            if self._lost.is_set():
                raise LinkLost("link lost while setting up: %s" % e)
            raise

    async def _secure(self, conn):
        """Encrypt the link with the bond from an earlier pairing, or pair (LE Secure
        Connections, Just Works) and bond. Optional: a device that cannot pair still syncs."""
        plain = str(conn.peer_address)   # before pairing swaps in the identity address
        self.security_step = None
        try:
            store = self.device.keystore
            bonded = store is not None and await self.bond_keys(conn.peer_address) is not None
            self.peer_address = conn.peer_address
            if bonded:
                await conn.encrypt()      # the bond's key: no pairing again
                self.security_step = "bond"
            else:
                await conn.pair()
                self.security_step = "paired"
                keys = await self.bond_keys(conn.peer_address)
                if keys is not None:   # Bumble looks the bond up by the plain address later
                    await store.update(plain, keys)
            self.bonded = True
        except Exception as e:
            if self._lost.is_set():
                raise LinkLost("link lost while pairing: %s" % e)
            self.security_error = "%s: %s" % (type(e).__name__, e)
        self.link_encrypted = conn.is_encrypted

    async def bond_keys(self, address):
        """The keys kept from pairing with ``address`` (Bumble names the entry by the
        peer's identity address, with its type), or None."""
        want = str(address).split("/")[0]
        for name, keys in await self.device.keystore.get_all():
            if name.split("/")[0] == want:
                return keys
        return None

    async def subscribe(self):
        """Write TX's CCCD: from now on the device's notifications arrive."""
        await self.peer.subscribe(self.tx, self._notified)

    async def read_device_information(self):
        """The Device Information service's strings, by characteristic name."""
        names = {0x2A29: "manufacturer", 0x2A24: "model", 0x2A25: "serial", 0x2A26: "firmware"}
        out = {}
        for uuid16, name in names.items():
            vals = await self.peer.read_characteristics_by_uuid(UUID.from_16_bits(uuid16))
            if vals:
                out[name] = bytes(vals[0]).decode(errors="replace")
        return out

    async def send(self, frame):
        if self._lost.is_set():
            raise LinkLost("link lost")
        try:
            await self.peer.write_value(self.rx, frame, with_response=True)
            self.att_bytes_out += 3 + len(frame) + 1   # write request + write response
            self.writes += 1
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # we are being cancelled, not the write
            raise LinkLost("link lost while writing")  # Bumble cancels requests of a dead link
        except Exception as e:
            if self._lost.is_set() or self.connection is None:
                raise LinkLost("link lost while writing")
            raise LinkLost("write failed: %s" % e)

    async def close(self):
        conn, self.connection = self.connection, None
        if conn is not None and not self._lost.is_set():
            try:
                await conn.disconnect()
            except Exception:
                pass
        self._lost.set()
