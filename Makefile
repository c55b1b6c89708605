# Sprintwatch: every target sets up what it needs (a .venv with the PyPI packages) by itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench bench-motion clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/sprintwatch sim --demo --out out/run
	$(BIN)/sprintwatch export out/run --format fit --out out/session.fit
	$(BIN)/sprintwatch plot out/run --out out/session.png

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-motion: $(STAMP)
	$(BIN)/python bench/run.py motion

clean:
	rm -rf $(VENV) out build
