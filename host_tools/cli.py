"""The ``sprintwatch`` command: one sub-command per module, each with its own --help."""
import argparse
import importlib
import sys

# Each module has register(subparsers) adding its commands with a ``func`` default.
COMMAND_MODULES = [
    "host_tools.sim",
    "host_tools.plan_cmd",
    "host_tools.flash",
    "host_tools.export",
    "host_tools.plot",
    "host_tools.next_cmd",
    "host_tools.log_cmd",
    "host_tools.analyze",
    "host_tools.compose",
    "host_tools.sync_cmd",
]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="sprintwatch",
        description="Sprintwatch: run, check, sync, export and plot interval sessions.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
