"""``sprintwatch sync`` and ``sprintwatch sessions``; also the device side of ``plan upload``."""
import contextlib
import datetime
import sys
from pathlib import Path

from host_tools.sessiondb import DEFAULT_DB, SessionDB

# asyncio, the client and the transports are imported by the handlers that use them:
# `plan check` and `--help` register these parsers and must start fast (host_tools/cli.py).

SIM_SESSIONS = 12


def add_db_arg(p):
    p.add_argument("--db", help="session database (default: %s; with --sim a separate one in the "
                                "cache folder, so simulated sessions never mix with yours)" % DEFAULT_DB)


def resolve_db(args):
    """The database a command uses: --db, else the simulated device's with --sim, else the user's."""
    if getattr(args, "db", None):
        return args.db
    if getattr(args, "sim", False):
        from host_tools.paths import cache_dir
        return str(cache_dir() / "sim" / "sessions.db")
    return str(DEFAULT_DB)


def add_device_args(p):
    p.add_argument("--address", help="Bluetooth address of the device (default: the first Sprintwatch found)")
    p.add_argument("--sim", action="store_true",
                   help="use a simulated device over a virtual Bluetooth link (kept beside the database)")
    add_db_arg(p)
    p.add_argument("--board", help="with --sim: the board to simulate (boards/NAME.json); a "
                                   "CircuitPython board serves the sync with adafruit_ble")
    p.add_argument("--pair", action="store_true",
                   help="also pair and bond at the link layer (LE Secure Connections, Just Works) where "
                        "the adapter supports it; the sync protocol encrypts and authenticates either way")


def register(sub):
    p = sub.add_parser("sync", help="download new sessions from the device over Bluetooth",
                       description="Download every session the laptop does not have yet, check each one's "
                                   "digest, store it, tell the device it is safe, and set the device clock.")
    add_device_args(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sync)
    # `sessions` (list, delete, rename): host_tools/sessions_cmd.py


class TqdmProgress:
    def __init__(self, enabled):
        self.enabled = enabled
        self.bar = None

    def start(self, total, done):
        if self.enabled and total:
            from tqdm import tqdm
            self.bar = tqdm(total=total, initial=done, unit="B", unit_scale=True, desc="sync", file=sys.stderr)

    def advance(self, n):
        if self.bar is not None:
            self.bar.update(n)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def sim_folder(db_path):
    return Path(db_path).expanduser().resolve().parent / "sim-device"


@contextlib.asynccontextmanager
async def open_transport(args, db):
    """The transport the arguments ask for; with ``--sim`` also the simulated device."""
    if not args.sim:
        from host_tools.transport_bleak import BleakTransport
        yield BleakTransport(address=args.address, pair=getattr(args, "pair", False))
        return
    from host_tools import simstore
    from host_tools.simdevice import SimDevice
    from host_tools.transport_bumble import BumbleTransport
    device_cls = SimDevice
    if getattr(args, "board", None):    # an unknown board is named before any work is done
        from host_tools.simdevice_cp import sim_device_factory
        device_cls = sim_device_factory(args.board)
    folder = sim_folder(args.db)
    folder.mkdir(parents=True, exist_ok=True)
    from host_tools import device_keys
    key = device_keys.read_key_file(folder)
    if key is None:  # what `sprintwatch flash` does for a real board
        dev_id, secret, key_file = device_keys.provision(db, name="simulated Sprintwatch")
        device_keys.write_key_file(folder, key_file)
        key = (dev_id, secret)
    elif db.key(key[0]) is None:
        db.set_key(key[0], key[1], "simulated Sprintwatch")
    store = simstore.open_store(folder / "flash")
    if not store.ids():
        simstore.fill(store, SIM_SESSIONS)

    def install_plan(text):
        tmp = folder / "plan.json.tmp"
        tmp.write_text(text)
        tmp.replace(folder / "plan.json")
    dev = await device_cls(store, key, install_plan=install_plan).start()
    try:
        yield BumbleTransport(dev.link, address=args.address, pair=getattr(args, "pair", False))
    finally:
        await dev.stop()


def cmd_sync(args):
    import asyncio
    from host_tools import sync
    from host_tools.syncclient import AuthError, DeviceError, VersionError
    from host_tools.transport import LinkLost, NoBluetooth
    args.db = resolve_db(args)
    if args.sim:
        print("simulated device; its sessions go to %s" % args.db, file=sys.stderr)
    db = SessionDB(args.db)
    progress = TqdmProgress(not args.no_progress)

    async def run():
        async with open_transport(args, db) as transport:
            report = await sync.sync(transport, db, progress=progress,
                                     log=lambda m: print(m, file=sys.stderr))
            report.link_encrypted = getattr(transport, "link_encrypted", False)
            return report
    try:
        report = asyncio.run(run())
    except (AuthError, sync.SyncFailed, LinkLost, DeviceError, NoBluetooth, VersionError) as e:
        progress.close()
        print("sync failed: %s" % e, file=sys.stderr)
        return 1
    finally:
        progress.close()
    dev = report.device_id
    if report.firmware:
        print("%s: firmware %s" % (dev, report.firmware))
    if not report.synced:
        print("%s: nothing new" % dev)
    else:
        total = sum(size for _, size in report.synced)
        print("%s: synced %d session%s, %d bytes" % (dev, len(report.synced),
                                                   "" if len(report.synced) == 1 else "s", total))
        for sid, size in report.synced:
            print("  session %d  %s" % (sid, describe(db.sessions(dev), sid)))
    for sid, why in getattr(report, "refused", []):
        print("session %d kept here but not acknowledged: %s" % (sid, why))
    extra = set(report.acked) - {sid for sid, _ in report.synced}
    if extra:
        print("acknowledged %d session(s) stored earlier" % len(extra))
    print("device clock set to %s" % _when(report.clock_set))
    if report.battery_pct is not None:
        print("device battery %d%%" % report.battery_pct)
    if getattr(args, "pair", False):
        print("Bluetooth link: %s" % ("encrypted (LE Secure Connections, bonded)" if report.link_encrypted
                                      else "not paired (the adapter or device declined); frames sealed by the protocol"))
    db.close()
    return 0


def describe(rows, sid):
    for _d, s, size, _digest, meta, _at, _ack in rows:
        if s == sid:
            parts = ["%6d bytes" % size]
            if meta.get("title"):
                parts.append(repr(meta["title"]))
            if meta.get("plan"):
                parts.append(str(meta["plan"]))
            if meta.get("wall_s"):
                parts.append(_when(meta["wall_s"]))
            if "reps" in meta:
                parts.append("%d reps" % meta["reps"])
            if meta.get("external"):
                parts.append("battery: on USB")
            elif "battery_pct" in meta:
                parts.append("battery %d%% (%.2f V)" % (meta["battery_pct"], meta["battery_mv"] / 1000))
            if meta.get("problems"):
                parts.append("%d problem(s)" % len(meta["problems"]))
            return "  ".join(parts)
    return ""


def _when(unix_s):
    return datetime.datetime.fromtimestamp(unix_s, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def cmd_sessions(args):
    args.db = resolve_db(args)
    db = SessionDB(args.db)
    rows = db.sessions()
    if not rows:
        print("no sessions in %s (run sprintwatch sync)" % args.db)
        return 0
    last = None
    for dev, sid, size, _digest, meta, at, acked in rows:
        if dev != last:
            print(dev)
            last = dev
        mine = [r for r in rows if r[0] == dev]
        print("  %4d  %s  synced %s%s" % (sid, describe(mine, sid), _when(at),
                                          "" if acked else "  (not yet acknowledged)"))
    return 0


def upload_plan(args, text):
    """Send a checked plan to the device (``plan upload``). Returns the exit status."""
    import asyncio
    from host_tools.syncclient import AuthError, DeviceError, SyncClient, VersionError
    from host_tools.transport import LinkLost, NoBluetooth
    args.db = resolve_db(args)
    db = SessionDB(args.db)

    async def run():
        async with open_transport(args, db) as transport:
            await transport.connect()
            try:
                client = SyncClient(transport)
                info = await client.info()
                key = db.key(info.get("id"))
                if key is None:
                    raise AuthError("no key for device %s in %s" % (info.get("id"), args.db))
                await client.authenticate(key, info.get("id"))
                return info.get("id"), await client.upload_plan(text)
            finally:
                await transport.close()
    try:
        dev, name = asyncio.run(run())
    except (AuthError, LinkLost, DeviceError, NoBluetooth, VersionError) as e:
        print("plan upload failed: %s" % e, file=sys.stderr)
        return 1
    print("%s: plan %r installed; it runs from the next session" % (dev, name))
    return 0
