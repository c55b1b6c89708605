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
