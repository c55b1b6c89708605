"""The sync service's files and set-up on a board, shared by the MicroPython and
CircuitPython Bluetooth layers: the key ``sprintwatch flash`` wrote, plan uploads,
and building the server a layer's peripheral serves."""
from swcore import syncproto as sp

KEY_FILE = "sync.key"


def load_key(path=KEY_FILE):
    """``(device_id, secret)`` from the key file ``sprintwatch flash`` wrote, or None.

    A missing or damaged file leaves the device unprovisioned (device information
    only), never stops it.
    """
    try:
        with open(path) as f:
            return sp.parse_key_file(f.read())
    except (OSError, ValueError):
        return None


def plan_installer(path):
    """``install_plan(text)`` for the server: write beside, then rename into place."""
    def install(text):
        import os
        tmp = path + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        try:
            os.rename(tmp, path)
        except OSError:  # a port whose rename does not replace (FAT): remove first
            os.remove(path)
            os.rename(tmp, path)
    return install


def start_service(peripheral_class, store, root, name, model, firmware, battery, random):
    """Build the SyncServer for ``store`` and start ``peripheral_class`` serving it.

    The key comes from ``root + KEY_FILE`` (none: device information only); uploaded
    plans go to ``root + "plan.json"``.
    """
    if random is None:
        import os
        random = os.urandom
    clock, diff = clock_ms()
    server = sp.SyncServer(store, load_key(root + KEY_FILE), random, plan_installer(root + "plan.json"),
                           {"name": name, "fw": firmware, "board": model}, battery,
                           clock=clock, ticks_diff=diff, on_event=_print_event)
    p = peripheral_class(server, name=name, model=model, firmware=firmware)
    p.start(battery() if battery else None)
    return p


def clock_ms():
    """``(now_ms, ticks_diff)`` on this port: MicroPython's wrapping ticks, else
    CircuitPython's (and CPython's) monotonic clock."""
    import time
    try:                                # feature probes: each port has one of these
        return time.ticks_ms, time.ticks_diff
    except AttributeError:
        pass
    try:
        ns = time.monotonic_ns
        return (lambda: ns() // 1000000), None
    except AttributeError:
        return (lambda: int(time.monotonic() * 1000)), None


def _print_event(kind, detail):
    # Refused frames and dropped connections on the REPL (also counted in STATUS).
    print("sync: %s: %s" % (kind, detail))
