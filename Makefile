# Sprintwatch: every target sets up what it needs (a .venv with the PyPI packages) by itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench bench-motion clean stubs typecheck fuzz

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --no-compile -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/sprintwatch sim --demo --out out/run
	$(BIN)/sprintwatch export out/run --format fit --out out/session.fit
	$(BIN)/sprintwatch plot out/run --out out/session.png

# Every core (pytest-xdist); the type checks of `make typecheck` run as one of the tests
# (tests/test_typecheck.py), beside the others rather than before them. The venv's pip
# (3.11's own) installs without compiling every package's .pyc up front: what the tests
# import is compiled as it is imported. The slowest tests are listed at the end.
TEST_WORKERS ?= auto
test: $(STAMP) stubs
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --durations=15

# Each target port's published stubs in a folder of its own (.stubs/NAME), then
# every board's firmware checked against its port's (host_tools/typecheck.py).
# .cplib/: the CircuitPython libraries from PyPI, without Blinka (host_tools/cplibs.py).
stubs: $(STAMP)
	$(BIN)/python -m host_tools.typecheck --install
	$(BIN)/python -m host_tools.cplibs

typecheck: stubs
	$(BIN)/python -m host_tools.typecheck

# The plan, log, store and sync fuzzers (tests/fuzz/fuzz_*.py: one file per fuzzer) on
# CPython and the MicroPython unix port, with oracles; FUZZ_SECONDS shared between them.
FUZZ_SECONDS ?= 600
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz/run.py --seconds $(FUZZ_SECONDS)

bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-motion: $(STAMP)
	$(BIN)/python bench/run.py motion

clean:
	rm -rf $(VENV) out build
