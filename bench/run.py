"""`make bench`: runs every bench/bench_*.py in turn; each prints its own figures."""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv):
    only = argv[1:]
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        name = script.stem[len("bench_"):]
        if only and name not in only:
            continue
        print("== %s ==" % name, flush=True)
        rc = subprocess.call([sys.executable, str(script)])
        if rc:
            print("bench %s failed (exit %d)" % (name, rc))
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
