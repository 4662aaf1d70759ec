# Two commands on a fresh clone:  make run  (the platform with demo data)  ·  make test
# Both create .venv and install what they need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PO := $(wildcard network/translations/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint format translations extract-messages chromium redis-server bench load clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

translations: $(MO)

run: export NETWORK_BASE_URL ?= http://$(HOST):$(PORT)
run: $(STAMP) translations
	$(BIN)/network init
	$(BIN)/network seed-demo --if-empty
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	$(BIN)/network serve --host $(HOST) --port $(PORT)

# Debian's chromium for the browser tests; installed when missing and apt is there.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing and apt-get is not available: browser tests will fail"; fi; }

# redis-server for the test that restarts Redis under load (tests/scaleout).
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	  else echo "redis-server is missing and apt-get is not available: the Redis restart test will fail"; fi; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: $(STAMP) translations chromium redis-server lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --no-location --sort-output \
	  --project=network -o network/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i network/translations/messages.pot -d network/translations

# Every benchmark of bench/ (results: bench/RESULTS.md); BENCH_ARGS=--quick for a short run.
# PostgreSQL and Redis are the local ones unless NETWORK_BENCH_DATABASE_URL and
# NETWORK_BENCH_REDIS_URL say otherwise.
BENCH_ARGS ?=
bench: $(STAMP) translations
	$(BIN)/python bench/http_api.py $(BENCH_ARGS)
	$(BIN)/python bench/directory.py $(BENCH_ARGS)
	$(BIN)/python bench/messaging.py $(BENCH_ARGS)
	$(BIN)/python bench/messaging.py --redis $(BENCH_ARGS)
	$(BIN)/python bench/catchup.py $(BENCH_ARGS)
	$(BIN)/python bench/capacity.py $(BENCH_ARGS)

# The bounded load test of issue 8: 500 users over 60 s, errors, p99, nothing lost.
load: $(STAMP) translations
	$(BIN)/python bench/load.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
