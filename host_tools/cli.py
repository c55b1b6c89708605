"""The ``sprintwatch`` command: one sub-command per module, each with its own --help.

Adding a command: give its module a ``register(subparsers)`` that adds the parser with
``set_defaults(func=handler)``, list the command's name in ``COMMANDS`` and its one-line
help in ``SUMMARIES`` (tests/test_cli.py checks both against the parsers). Only the
module of the command being run is imported, so one command's libraries never slow
another's start-up, and ``sprintwatch --help`` lists the summaries without importing any
(a command without a summary gets its module imported for the list). A module's top level
must still stay light (argparse, the stdlib, swcore): import matplotlib, fit_tool, bleak,
bumble, tqdm, mpremote inside the handler that needs them (tests/test_cli.py checks).

Every failure ends in one line on stderr naming what is wrong and a non-zero exit,
never a traceback (``SPRINTWATCH_DEBUG=1`` shows one); a closed pipe (``| head``) ends
quietly.
"""
import argparse
import importlib
import os
import sys

# Command -> module registering it. A module may register several commands.
COMMANDS = {
    "sim": "host_tools.sim",
    "plan": "host_tools.plan_cmd",
    "flash": "host_tools.flash",
    "export": "host_tools.export",
    "export-plan": "host_tools.export",
    "plot": "host_tools.plot",
    "next": "host_tools.next_cmd",
    "rate": "host_tools.next_cmd",
    "log": "host_tools.log_cmd",
    "analyze": "host_tools.analyze",
    "compose": "host_tools.compose",
    "sync": "host_tools.sync_cmd",
    "sessions": "host_tools.sessions_cmd",
    "upload": "host_tools.upload",
}

# What `sprintwatch --help` lists: each command's `help=`, word for word.
SUMMARIES = {
    "sim": "run a session on the simulated board in virtual time",
    "plan": "check or show session plans",
    "flash": "copy the firmware, board config, sync key and plan to a board",
    "export": "export a session as FIT, TCX, CSV or JSON",
    "export-plan": "write a session plan as a FIT workout for a Garmin watch",
    "plot": "plot a session, or progress across sessions, to a PNG",
    "next": "write the next session's plan from the history, saying why",
    "rate": "say how a session felt (easy, ok or hard) for `next`",
    "log": "read session log files (.swlog)",
    "analyze": "run the firmware motion pipeline over an accelerometer trace",
    "compose": "splice recordings into a sprint session trace with labels",
    "sync": "download new sessions from the device over Bluetooth",
    "sessions": "list, delete or rename the sessions stored on this laptop",
    "upload": "upload a session to intervals.icu as a FIT activity",
}
SUMMARY_ONLY = "summaries"      # modules_for(): list the commands, import none

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141      # 128 + SIGPIPE, what `yes | head` reports


class VersionAction(argparse.Action):
    """``--version``: the host tools' and the bundled firmware's versions (read only when asked)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from host_tools import firmware
        print("sprintwatch %s (firmware %s)" % (firmware.host_version(), firmware.firmware_version()))
        parser.exit()


def existing_file(text):
    """argparse ``type=`` for an input file: a missing one is a usage error naming it."""
    path = os.path.expanduser(text)
    if not os.path.exists(path):
        raise argparse.ArgumentTypeError("no such file: %s" % text)
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError("%s is a folder, not a file" % text)
    return path


def modules_for(argv):
    """The modules ``argv`` needs: its command's alone when ``COMMANDS`` knows it, none for
    ``--version``; else (top-level --help, no or a mistyped command) SUMMARY_ONLY."""
    for arg in argv:
        if arg == "--version":
            return []
        if arg == "--" or not arg.startswith("-"):
            if arg in COMMANDS:
                return [COMMANDS[arg]]
            break
    return SUMMARY_ONLY


def build_parser(modules=None):
    """The parser with the commands of ``modules`` (default: every command's module)."""
    parser = argparse.ArgumentParser(
        prog="sprintwatch",
        description="Sprintwatch: run, check, sync, export and plot interval sessions.")
    parser.add_argument("--version", action=VersionAction,
                        help="print the host tools' and the firmware's versions and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    if modules == SUMMARY_ONLY:       # the list alone: a placeholder per command
        for name in COMMANDS:
            if name in SUMMARIES:
                sub.add_parser(name, help=SUMMARIES[name])
        modules = [m for n, m in COMMANDS.items() if n not in SUMMARIES]
    elif modules is None:
        modules = COMMANDS.values()
    for name in dict.fromkeys(modules):
        importlib.import_module(name).register(sub)
    return parser


def describe_error(e):
    """One line saying what went wrong, for an exception no command turned into a message."""
    import json
    if getattr(e, "user_error", False):     # a module's own clear message (e.g. SessionDBError)
        return str(e)
    name = getattr(e, "filename", None)
    if isinstance(e, FileNotFoundError) and name:
        return "no such file or folder: %s" % name
    if isinstance(e, IsADirectoryError) and name:
        return "%s is a folder, not a file" % name
    if isinstance(e, NotADirectoryError) and name:
        return "%s: a part of this path is a file, not a folder" % name
    if isinstance(e, PermissionError) and name:
        return "permission denied: %s" % name
    if isinstance(e, OSError):
        where = "%s: " % name if name else ""
        return "%s%s" % (where, e.strerror or e)
    if isinstance(e, UnicodeDecodeError):
        return "not UTF-8 text (byte 0x%02x at offset %d)" % (e.object[e.start], e.start)
    if isinstance(e, json.JSONDecodeError):
        return "not valid JSON: %s (line %d, column %d)" % (e.msg, e.lineno, e.colno)
    if isinstance(e, MemoryError):
        return "out of memory (is the input far larger than a session?)"
    return "%s: %s (unexpected: please report it; SPRINTWATCH_DEBUG=1 shows where)" % (type(e).__name__, e)


def _silence_stdout():
    """After a closed pipe: point stdout at /dev/null so the exit-time flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser(modules_for(argv)).parse_args(argv)
        rc = args.func(args) or 0
        sys.stdout.flush()          # a closed pipe shows here, inside the handler below
        return rc
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as e:
        if os.environ.get("SPRINTWATCH_DEBUG"):
            raise
        print("error: %s" % describe_error(e), file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
