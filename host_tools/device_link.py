"""A USB-serial link to a MicroPython board, through mpremote's raw-REPL transport.

One connection for the whole flash: connect, interrupt whatever runs, enter the raw
REPL without a soft reset (what ``mpremote connect PORT resume`` does), then run small
scripts on the device. Every path on the device is relative to its current folder
(``/`` on a board, the board folder on the pty stand-in).
"""
import ast
import base64
import contextlib
import io
import os

import serial
import serial.tools.list_ports
from mpremote.transport import TransportError, TransportExecError
from mpremote.transport_serial import SerialTransport

from host_tools.device_errors import DeviceError, LinkLost  # noqa: F401  (raised here, imported from here)

CHUNK = 1536  # bytes per write command (2 KiB of base64)

# Hash files on the device itself: the host never trusts what it sent.
_HASH_DEF = """
import hashlib, binascii
def _sw_hash(p):
    try:
        f = open(p, 'rb')
    except OSError:
        return None
    d = hashlib.sha256()
    b = bytearray(512)
    m = memoryview(b)
    while True:
        n = f.readinto(b)
        if not n:
            break
        d.update(m[:n])
    f.close()
    return binascii.hexlify(d.digest()).decode()
"""


def find_port():
    """The only USB serial port with a vendor id; errors when there is none or several."""
    ports = [p for p in serial.tools.list_ports.comports() if p.vid is not None]
    if not ports:
        raise DeviceError("no board found: plug it in over USB, or give --port "
                          "(`mpremote connect list` shows the serial ports)")
    if len(ports) > 1:
        raise DeviceError("several serial ports found (%s): choose one with --port"
                          % ", ".join(p.device for p in ports))
    return ports[0].device


class Link:
    def __init__(self, port, timeout=5):
        if "://" not in port and not os.path.exists(port):
            raise DeviceError("port %s does not exist: is the board plugged in? "
                              "(`mpremote connect list` shows the serial ports)" % port)
        self.port = port
        try:
            self.t = SerialTransport(port, baudrate=115200)
        except (TransportError, serial.SerialException, OSError) as e:
            raise DeviceError("cannot open %s: %s" % (port, e))
        # mpremote reads a pty byte by byte without a timeout: bound the wait for a
        # prompt while connecting (a silent port), then block as mpremote expects.
        self.t.serial.timeout = 0.2
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # mpremote prints what it got
                self.t.enter_raw_repl(soft_reset=False, timeout_overall=timeout)
            self.t.serial.timeout = None
        except (TransportError, serial.SerialException, OSError):
            self.t.close()
            raise DeviceError("%s does not answer like a MicroPython board (no raw REPL prompt "
                              "within %ds): install MicroPython on it first, or check the port"
                              % (port, timeout))
        self._hash_ready = False

    def close(self):
        try:
            if self.t.in_raw_repl:
                self.t.exit_raw_repl()
            self.t.close()
        except (serial.SerialException, OSError):
            pass

    def run(self, code):
        """Run code on the device; returns what it printed."""
        try:
            return self.t.exec(code).decode()
        except TransportExecError as e:
            last = e.error_output.strip().splitlines()[-1:] or ["?"]
            raise DeviceError("the device reported an error: %s" % last[0])
        except (TransportError, serial.SerialException, OSError) as e:
            raise LinkLost("lost the connection to %s (%s)" % (self.port, e))

    def eval(self, expr):
        return ast.literal_eval(self.run("print(repr(%s))" % expr).strip())

    def info(self):
        """The device's MicroPython: (name, version tuple, sys.implementation._mpy, machine)."""
        return self.eval(
            "(lambda s: (s.implementation.name, tuple(s.implementation.version[:3]),"
            " getattr(s.implementation, '_mpy', 0), getattr(s.implementation, '_machine', s.platform)))"
            "(__import__('sys'))")

    def _try(self, code):
        try:
            self.run(code)
            return True
        except DeviceError as e:
            if isinstance(e, LinkLost):
                raise
            return False

    def hashes(self, paths):
        """{path: sha256 hex or None when missing} computed on the device."""
        if not self._hash_ready:
            if not self._try(_HASH_DEF):
                raise DeviceError("the device has no hashlib.sha256: cannot verify files")
            self._hash_ready = True
        out = {}
        paths = list(paths)
        for i in range(0, len(paths), 20):
            part = paths[i:i + 20]
            out.update(self.eval("{p: _sw_hash(p) for p in %r}" % (part,)))
        return out

    def read(self, path):
        """A small file's bytes, or None when it does not exist."""
        text = self.run("try:\n f=open(%r,'rb')\n import binascii\n print(binascii.b2a_base64(f.read()).decode().strip())\n"
                        " f.close()\nexcept OSError:\n print('-')" % path).strip()
        return None if text == "-" else base64.b64decode(text)

    def makedirs(self, folder):
        if not folder:
            return
        parts = folder.split("/")
        for i in range(1, len(parts) + 1):
            self.run("import os\ntry:\n os.mkdir(%r)\nexcept OSError:\n pass" % "/".join(parts[:i]))

    def write(self, path, data, progress=None):
        """Write ``data`` to ``path`` (callers pass the temporary name)."""
        self.run("import binascii\n_sw_f=open(%r,'wb')\n_sw_w=_sw_f.write\n_sw_d=binascii.a2b_base64" % path)
        for i in range(0, len(data), CHUNK):
            chunk = data[i:i + CHUNK]
            self.run("_sw_w(_sw_d(%r))" % base64.b64encode(chunk).decode())
            if progress:
                progress(len(chunk))
        self.run("_sw_f.close()")

    def rename(self, src, dst):
        """Replace ``dst`` by ``src``; FAT refuses to rename over a file, so remove it first there."""
        self.run("import os\ntry:\n os.rename(%r,%r)\nexcept OSError:\n os.remove(%r)\n os.rename(%r,%r)"
                 % (src, dst, dst, src, dst))

    def remove(self, path):
        self.run("import os\ntry:\n os.remove(%r)\nexcept OSError:\n pass" % path)

    def soft_reset(self):
        """Soft-reset into the normal REPL, so boot.py and main.py run."""
        try:
            self.t.exit_raw_repl()
            self.t.read_until(1, b">>> ", timeout=2)
            self.t.serial.write(b"\x04")
            data = self.t.read_until(1, b"soft reboot\r\n", timeout=5)
        except (serial.SerialException, OSError) as e:
            raise LinkLost("lost the connection to %s during the reset (%s)" % (self.port, e))
        if not data.endswith(b"soft reboot\r\n"):
            raise DeviceError("the board did not confirm the soft reset: press its reset button")
