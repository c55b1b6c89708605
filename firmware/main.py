"""Device entry point: read board.json and plan.json, build the board's parts, run the session.

Startup never stops the device: a missing or bad board.json, a bad plan or a dead
sensor each fall back (button-only, the built-in session) with an error cue, a log
record and a line on the console saying why. If anything unexpected still goes
wrong, a second attempt runs the built-in session button-only; a failure during the
session is printed and ends in the REPL, never in a reboot loop.
"""
import json
import sys

from swrt.session import LOG_DIR, ResumeOffer, start_session_log  # noqa: F401  (shared with swrt.cp)
from swrt.session import BOARD_FILE, PLAN_FILE_LIMIT, console_sink, file_reader, session_store


def prepare(machine, time_mod, root="", sinks=(console_sink,), safe=False):
    """Board parts, app and runner, ready to run; ``safe`` skips the plan and sensor."""
    from app import App, load_plan
    from swrt import mp
    from swrt.runner import Runner
    from swrt.session import read_board, motion_pipeline

    spec, board_error = read_board(root)
    parts = mp.build(spec, machine, time_mod, sensor=not safe)
    if board_error:
        parts.faults.insert(0, ("board_fault", board_error))
    name, steps, plan_text, plan_error = load_plan(
        (lambda: None) if safe else file_reader(root + "plan.json", PLAN_FILE_LIMIT))
    app = App(parts, name, steps, list(sinks), motion=motion_pipeline(parts, safe))
    try:
        from app import unload_plan_parser      # frees the parser's RAM once steps exist
        unload_plan_parser()
    except ImportError:
        pass
    runner = Runner(app, parts, plan_error)
    if not safe:                              # (safe mode: the console is the log)
        runner.resume_offer = start_session_log(app, parts, root, plan_text, len(steps))
    return runner


def start_sync(runner, root=""):
    """The Bluetooth sync service (swrt.ble_mp) for this session's store, or None: on a
    port without ``bluetooth``, or a device not provisioned with a key by `sprintwatch
    flash` (no key, no radio). It never stops the session."""
    store = session_store(runner)
    try:
        open(root + "sync.key").close()
    except OSError:
        return None
    if store is None:
        return None
    try:
        from swrt import ble_mp
    except ImportError:
        return None
    try:
        from app import FIRMWARE_VERSION
        from swcore.battery import level as battery_level
        pct = battery_level(runner.parts.battery_mv)   # the Battery Service's 0x2A19
        level = (lambda: pct) if pct is not None else None
        sync = ble_mp.start_sync(store, root, firmware=FIRMWARE_VERSION, battery=level)
    except Exception as e:
        runner.parts.faults.append(("sync_fault", "Bluetooth sync not started: %s" % e))
        return None
    runner.background.append(sync.run())
    return sync


def hold_power(machine, root=""):
    """First thing at power-on: some boards switch off unless a pin is driven at once."""
    try:
        hold = json.loads(file_reader(root + BOARD_FILE)() or "{}").get("power_hold")
        if hold:
            machine.Pin(hold["pin"], machine.Pin.OUT, value=hold.get("level", 1))
    except Exception:
        pass                                  # board.json problems are reported later


def main(machine=None, time_mod=None, root=""):
    if machine is None:
        import machine
    if time_mod is None:
        import time as time_mod
    hold_power(machine, root)
    try:
        runner = prepare(machine, time_mod, root)
    except Exception as e:
        print("sprintwatch: startup failed (%s); running the built-in session, button only" % e)
        if hasattr(sys, "print_exception"):
            sys.print_exception(e)
        runner = prepare(machine, time_mod, root, safe=True)
        runner.parts.faults.append(("startup_fault", str(e)))
    sync = start_sync(runner, root)
    try:
        runner.run()
    except Exception as e:
        runner.parts.output.off()
        print("sprintwatch: session stopped by an error: %s" % e)
        if hasattr(sys, "print_exception"):
            sys.print_exception(e)
    if sync is not None:                      # session over: stay available for sync
        import asyncio
        asyncio.run(sync.run())
    return runner


if __name__ == "__main__":
    main()
