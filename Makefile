# LayerLens: `make run` opens the dashboard, `make test` runs the whole suite.
# Both create .venv unless a virtualenv is already active, and install what they need.

PYTHON ?= python3
ifdef VIRTUAL_ENV
  ENV_DIR := $(VIRTUAL_ENV)
else
  ENV_DIR := .venv
endif
BIN := $(ENV_DIR)/bin
STAMP := $(ENV_DIR)/.layerlens-installed
PORT ?= 8501

.PHONY: run test test-fast browser bench fuzz setup clean

setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(ENV_DIR)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,rtx,images,viewer]'
	touch $(STAMP)

# Debian's chromium for the browser tests (never `playwright install`: it downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Install Debian's chromium (sudo apt-get install chromium) for the browser tests"; fi; }

run: setup
	$(BIN)/python -m layerlens dashboard --port $(PORT)

# The 15 slowest tests and the time per kind of test (browser, build, other) against its budget end every run.
# Two pytest-xdist workers, one test file at a time each (a file's module fixtures and dashboards start once), in the
# order tests/conftest.py gives (the longest few-test files first, then by number of tests); each real TensorRT-RTX
# build is made once, by whichever worker takes it first (tests/conftest.py build_once).
PYTEST_WORKERS ?= 2
test: setup browser
	$(BIN)/python -m pytest -q --durations=15 -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

test-fast: setup
	$(BIN)/python -m pytest -q --durations=15 -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not browser and not build and not install"

bench: setup
	$(BIN)/python benchmarks/bench.py

# 10,000 mutated real artifacts per importer (fixed seed, time budget); crashing inputs land in $TMPDIR/layerlens-fuzz-crashes.
fuzz: setup
	$(BIN)/python -u tests/fuzz_campaign.py --inputs 10000

clean:
	rm -rf .venv .pytest_cache build *.egg-info
