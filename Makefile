# Cartwheel: `make run` serves the demo, `make test` runs every test. Both start from nothing.
SHELL := /bin/bash
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
UV_VERSION := 0.13.9
# uv from PATH, or bootstrapped through pip into .tools/ when it is missing.
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test unit e2e bench bench-packages lint clean system-packages messages

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

# Installing also compiles the translation catalogs (.po under version control, .mo built here).
$(BIN)/shop: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --no-dev
	$(BIN)/pybabel -q compile -d shop/locale -D messages
	@touch $@

$(BIN)/pytest: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras
	$(BIN)/pybabel -q compile -d shop/locale -D messages
	@touch $(BIN)/shop $@

# After changing a user-visible string: extract, update every catalog, then translate what is new
# (tests/test_catalogs.py fails while a string is untranslated or fuzzy).
messages: $(BIN)/shop
	$(BIN)/python -m shop.catalogs update

run: $(BIN)/shop
	$(BIN)/shop db upgrade
	$(BIN)/shop seed
	HOST=$(HOST) PORT=$(PORT) $(BIN)/shop serve

# What the tests need from Debian: a browser, and the servers the scale-out tests start.
system-packages:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# One xdist worker per core, each taking whole files: a journey file's store is started once, by one worker.
# The journeys run apart from the other tests: Playwright's sync API leaves an event loop running in
# its worker, where the async tests that follow could not start theirs.
PARALLEL := -n auto --dist loadfile

unit: $(BIN)/pytest
	$(BIN)/pytest tests plugins -q $(PARALLEL)

e2e: $(BIN)/pytest system-packages
	$(BIN)/pytest e2e -q $(PARALLEL)

# The slowest tests are named at the end of each run: where the suite's time goes, for whoever makes it faster.
test: $(BIN)/pytest system-packages
	$(BIN)/pytest tests plugins -q $(PARALLEL) --durations=15
	$(BIN)/pytest e2e -q $(PARALLEL) --durations=15

# The page benchmark's load generator: wrk (Debian), since a Python client tops out below the store.
bench-packages:
	@command -v wrk >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

# Short runs of the benchmarks that print the README's figures (see each script for longer ones).
# Each prints its own detail; the last table gathers their headline figures beside the goals.
bench: $(BIN)/pytest system-packages bench-packages
	@summary=$$(mktemp); trap 'rm -f $$summary' EXIT; set -e; \
	$(BIN)/python bench/pages.py --seconds 3 --summary $$summary; \
	$(BIN)/python bench/checkout_cost.py --orders 20 --summary $$summary; \
	$(BIN)/python bench/status_push.py --orders 2000 --pay 200 --rate 20 --poll-orders 0 --summary $$summary; \
	$(BIN)/python bench/summary.py $$summary

lint: | $(UV)
	$(UV) tool run ruff@0.14.0 check shop plugins tests e2e bench

clean:
	rm -rf $(VENV) .tools var test-results
	find shop/locale -name '*.mo' -delete
