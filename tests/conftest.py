import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT / "firmware", ROOT / "tests" / "firmware"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

# Tests never touch the user's data or cache folders: data in a folder of this run,
# compiled .mpy in build/ (shared by every test and xdist worker; entries are keyed by
# source hash and mpy-cross version, so sharing is safe and saves recompiling).
import os  # noqa: E402
import tempfile  # noqa: E402

os.environ.setdefault("SPRINTWATCH_DATA", tempfile.mkdtemp(prefix="sprintwatch-test-data-"))
os.environ.setdefault("SPRINTWATCH_CACHE", str(ROOT / "build" / "test-cache"))

# The longest tests start first, so the xdist workers of `make test` do not end with one
# of them running alone (measured: `pytest --durations=20`). Order only; nothing skipped.
SLOW_FIRST = ("test_powercut.py", "test_typecheck.py", "test_cp_runtime.py", "test_ble_cp.py",
              "test_sync_cli.py", "test_flash.py")


def pytest_collection_modifyitems(config, items):
    def rank(item):
        name = item.path.name
        return SLOW_FIRST.index(name) if name in SLOW_FIRST else len(SLOW_FIRST)
    items.sort(key=rank)        # stable: the order inside each rank stays
