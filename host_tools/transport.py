"""What carries sync frames: a small interface the sync logic is written against.

A transport connects to one device, sends request frames (GATT write with response
to the RX characteristic) and hands over notifications from TX in order. When the
link drops, ``recv`` first returns what had already arrived, then raises LinkLost.
Implementations: ``transport_bleak`` (real radios), ``transport_bumble`` (virtual link).
"""
import asyncio


class LinkLost(Exception):
    """The Bluetooth link went away (or could not be made)."""


class NoBluetooth(Exception):
    """This computer has no usable Bluetooth adapter (or no permission to use it)."""


class Transport:
    mtu = 23
    description = "device"

    def __init__(self):
        self._reset()

    def _reset(self):
        self._frames = asyncio.Queue()
        self._lost = asyncio.Event()

    # called by implementations
    def _notified(self, data):
        self._frames.put_nowait(bytes(data))

    def _disconnected(self, *_):
        self._lost.set()

    # used by the sync client
    async def connect(self):
        """Find and connect to the device, exchange the MTU, subscribe to TX."""
        raise NotImplementedError

    async def send(self, frame):
        raise NotImplementedError

    async def close(self):
        raise NotImplementedError

    @property
    def connected(self):
        return not self._lost.is_set()

    async def recv(self, timeout):
        """The next notification; LinkLost once the link is gone and nothing is left."""
        if not self._frames.empty():
            return self._frames.get_nowait()
        if self._lost.is_set():
            raise LinkLost("link lost")
        get = asyncio.ensure_future(self._frames.get())
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            done, _ = await asyncio.wait({get, lost}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not get.done():
                get.cancel()
        if get in done:
            return get.result()
        if lost in done:
            raise LinkLost("link lost")
        raise TimeoutError("no answer from the device in %.0f s" % timeout)
