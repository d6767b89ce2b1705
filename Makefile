# mistctl: everything a fresh machine needs is installed by these targets (Python 3.11+ and make only).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Test files run on this many pytest-xdist workers (one file per worker at a time; most tests wait on I/O).
TEST_WORKERS ?= 4

.PHONY: venv redis chromium check test demo bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# The Redis tests start their own throwaway redis-server; install the binary when it is missing.
redis:
	@bash scripts/ensure-redis.sh

# The console's browser tests drive Debian's chromium headless; install it when it is missing.
chromium:
	@bash scripts/ensure-chromium.sh

check: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

test: venv redis chromium check
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

demo: venv
	$(BIN)/mistctl demo

bench: venv redis
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .mistctl .pytest_cache .mypy_cache .ruff_cache
