"""A minimal stand-in for MicroPython's ``bluetooth`` module, for firmware tests that
must also run on the unix port (which has no Bluetooth). It keeps what the firmware
did and copies the ports' edges: 20-byte value buffers unless ``gatts_set_buffer``,
ENOMEM on a full notify queue, OSError on notify after disconnect.

``install()`` puts it in ``sys.modules["bluetooth"]``; host tests use the Bumble adapter.
"""
import sys

FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
ENOMEM = 12
ENOTCONN = 107


class UUID:
    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, UUID) and self.value == other.value


class BLE:
    def __init__(self):
        self.handler = None
        self.values = {}
        self.sizes = {}
        self.cfg = {"mtu": 23, "gap_name": ""}
        self.services = None
        self.adverts = []
        self.sent = []
        self.conns = set()
        self.enomem = 0          # the next N notifies fail with ENOMEM
        self.exchanges = []
        self.is_active = False

    def active(self, v=None):
        if v is not None:
            self.is_active = v
        return self.is_active

    def irq(self, handler):
        self.handler = handler

    def config(self, *names, **kw):
        for k in kw:
            self.cfg[k] = kw[k]
        if names:
            return self.cfg[names[0]]

    def gap_advertise(self, interval_us, adv_data=None, resp_data=None, connectable=True):
        self.adverts.append((interval_us, adv_data, resp_data))

    def gattc_exchange_mtu(self, conn):
        self.exchanges.append(conn)

    def gatts_register_services(self, defs):
        self.services = defs
        out = []
        h = 1
        for _uuid, chars in defs:
            hs = []
            for _c in chars:
                h += 1
                hs.append(h)
                self.values[h] = b""
                self.sizes[h] = 20
                h += 1
            out.append(tuple(hs))
        return tuple(out)

    def gatts_read(self, h):
        return self.values[h]

    def gatts_write(self, h, data, send_update=False):
        self.values[h] = bytes(data)

    def gap_disconnect(self, conn):
        self.disconnects = getattr(self, "disconnects", []) + [conn]
        if conn not in self.conns:
            return False
        self.disconnect(conn)
        return True

    def gatts_set_buffer(self, h, n, append=False):
        self.sizes[h] = n

    def gatts_notify(self, conn, h, data=None):
        if conn not in self.conns:
            raise OSError(ENOTCONN)
        if self.enomem:
            self.enomem -= 1
            raise OSError(ENOMEM)
        self.sent.append(bytes(data))

    # -- the peer's side
    def connect(self, conn=1):
        self.conns.add(conn)
        self.handler(1, (conn, 0, b"\x00" * 6))

    def disconnect(self, conn=1, tell=True):
        self.conns.discard(conn)
        if tell:
            self.handler(2, (conn, 0, b"\x00" * 6))

    def write(self, conn, h, data):
        self.values[h] = bytes(data)[:self.sizes[h]]   # the port cuts what does not fit
        self.handler(3, (conn, h))

    def mtu(self, conn, mtu):
        self.handler(21, (conn, mtu))


def install():
    sys.modules["bluetooth"] = sys.modules[__name__]
