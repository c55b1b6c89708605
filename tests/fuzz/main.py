"""One batch of one fuzzer, on whichever runtime runs this file:

    micropython tests/fuzz/main.py NAME SEED CASES [-v]
    python tests/fuzz/main.py NAME SEED CASES [-v]

prints ``DIGEST <hex>`` (the fuzzer's answer for the batch), or the failed oracle and
exits 1. ``-v`` prints each case's answer too (to find where two runtimes part).
"""
import sys


def main(argv):
    name, seed, cases = argv[1], int(argv[2]), int(argv[3])
    mod = __import__("fuzz_" + name)
    try:
        digest = mod.run(seed, cases, "-v" in argv)
    except AssertionError as e:
        print("ORACLE FAILED: fuzz_%s seed %d cases %d: %s" % (name, seed, cases, e))
        sys.print_exception(e) if hasattr(sys, "print_exception") else __import__("traceback").print_exc()
        return 1
    print("DIGEST %s" % digest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
