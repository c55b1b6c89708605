"""A stand-in USB board: the MicroPython unix port behind a pseudo-terminal.

``mpremote connect PTY resume ...`` and ``sprintwatch flash --port PTY`` talk to it
exactly as to a board's USB serial port. The unix port already speaks the raw REPL
(Ctrl-A, raw-paste mode, Ctrl-B, Ctrl-C); what it does differently is bridged here:

- Ctrl-D (soft reset) ends the unix process instead of restarting it. The bridge
  prints ``MPY: soft reboot`` like a board, starts a fresh interpreter in the same
  folder (its "flash"), and puts it back in the raw REPL when it was there, hiding
  the unix banner a board would not print in raw mode. ``main.py`` is not run after
  a reset (the app would wait for hardware the unix port does not have).
- The interpreter's own terminal is put in raw mode so that its ``\\r\\n`` reaches
  the host unchanged (a default pty would turn it into ``\\r\\r\\n``).

``unplug_after`` (bytes from the host) drops the line mid-transfer, as a pulled
USB cable would, for the interrupted-copy tests.

Run by hand: ``python -m host_tools.pty_board DIR`` prints the port to use.
"""
import os
import pty
import select
import subprocess
import sys
import threading
import time
import tty

from host_tools import firmware

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
FRIENDLY_BANNER = b'Type "help()"'


class PtyBoard:
    def __init__(self, root, heapsize="512K", unplug_after=None):
        self.root = str(root)
        self.heapsize = heapsize
        self.unplug_after = unplug_after
        self.received = 0
        self.resets = 0
        self.raw_mode = False
        self._tail = b""
        self._stop = threading.Event()
        self._thread = None
        self._proc = None
        self._mp_fd = None
        self._host_fd = None
        self.port = None

    # ---- life cycle -----------------------------------------------------------
    def start(self):
        """Start the interpreter and the relay; returns the port path for the host."""
        self._host_fd, host_slave = pty.openpty()
        tty.setraw(host_slave)
        self.port = os.ttyname(host_slave)
        self._host_slave = host_slave  # kept open so the port survives host reconnects
        self._spawn()
        self._thread = threading.Thread(target=self._relay, daemon=True)
        self._thread.start()
        return self.port

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        self._kill()
        for fd in (self._host_fd, self._host_slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # ---- the interpreter -------------------------------------------------------
    def _spawn(self):
        self._mp_fd, slave = pty.openpty()
        tty.setraw(slave)
        env = dict(os.environ, MICROPYPATH=".frozen:lib")
        self._proc = subprocess.Popen(
            [firmware.micropython_exe(), "-X", "heapsize=" + self.heapsize],
            stdin=slave, stdout=slave, stderr=slave, cwd=self.root, env=env,
            start_new_session=True)
        os.close(slave)

    def _kill(self):
        if self._proc and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._mp_fd is not None:
            try:
                os.close(self._mp_fd)
            except OSError:
                pass
            self._mp_fd = None

    def _reboot(self):
        """The unix process ended on Ctrl-D: behave like a board's soft reboot."""
        was_raw = self.raw_mode
        self._kill()
        self.resets += 1
        os.write(self._host_fd, b"MPY: soft reboot\r\n")
        self._spawn()
        if was_raw:
            self._read_mp_until(b">>> ")
            os.write(self._mp_fd, b"\x01")
            self._read_mp_until(RAW_BANNER)
            os.write(self._host_fd, RAW_BANNER)

    def _read_mp_until(self, ending, timeout=5.0):
        data = b""
        end = time.monotonic() + timeout
        while not data.endswith(ending) and time.monotonic() < end:
            r, _, _ = select.select([self._mp_fd], [], [], 0.05)
            if r:
                data += os.read(self._mp_fd, 4096)
        return data

    # ---- relay -----------------------------------------------------------------
    def _track_mode(self, chunk):
        seen = self._tail + chunk
        raw_at = seen.rfind(b"raw REPL; CTRL-B to exit")
        friendly_at = seen.rfind(FRIENDLY_BANNER)
        if raw_at >= 0 or friendly_at >= 0:
            self.raw_mode = raw_at > friendly_at
        self._tail = seen[-64:]

    def _relay(self):
        while not self._stop.is_set():
            fds = [self._host_fd, self._mp_fd]
            try:
                r, _, _ = select.select(fds, [], [], 0.05)
            except (OSError, ValueError):
                return
            if self._mp_fd in r:
                try:
                    chunk = os.read(self._mp_fd, 4096)
                except OSError:
                    chunk = b""
                if chunk:
                    self._track_mode(chunk)
                    os.write(self._host_fd, chunk)
                elif self._proc.poll() is not None or not chunk:
                    self._proc.wait()
                    self._reboot()
            if self._host_fd in r:
                try:
                    chunk = os.read(self._host_fd, 4096)
                except OSError:
                    continue
                self.received += len(chunk)
                if self.unplug_after is not None and self.received > self.unplug_after:
                    self._unplug()
                    return
                os.write(self._mp_fd, chunk)

    def _unplug(self):
        """Cable pulled: the interpreter dies and the port stops answering."""
        self._kill()
        try:
            os.close(self._host_slave)
            os.close(self._host_fd)
        except OSError:
            pass
        self._host_fd = self._host_slave = -1


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m host_tools.pty_board DIR", file=sys.stderr)
        return 2
    os.makedirs(argv[0], exist_ok=True)
    with PtyBoard(argv[0]) as board:
        print(board.port, flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
