"""Runs a firmware test module on the MicroPython unix port, pytest-style.

Usage: micropython mp_runner.py test_module[:test_name] [more]. Calls every top-level
``test_*`` function (or only the one named); prints one line per test and exits 1 if
any failed.
"""
import sys


def run(names):
    failed = 0
    count = 0
    for spec in names:
        name, _, only = spec.partition(":")
        mod = __import__(name)
        for attr in sorted(dir(mod)):
            if not attr.startswith("test_") or (only and attr != only):
                continue
            fn = getattr(mod, attr)
            if not callable(fn):
                continue
            count += 1
            try:
                fn()
                print("PASS %s.%s" % (name, attr))
            except Exception as e:
                failed += 1
                print("FAIL %s.%s: %s: %s" % (name, attr, type(e).__name__, e))
                sys.print_exception(e)
    print("%d passed, %d failed" % (count - failed, failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if run(sys.argv[1:]) else 0)
