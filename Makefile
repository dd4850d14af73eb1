# The two commands a fresh machine needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: run test install system-deps lint typecheck bench clean

run: install
	$(BIN)/shop up

test: install lint typecheck
	$(BIN)/python -m pytest

install: $(STAMP) system-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian packages the stack needs (Prometheus, the Pushgateway, docker-compose for
# validating the compose file); installed only when missing.
system-deps:
	@bash infra/local/install-system-deps.sh

lint: install
	$(BIN)/ruff check .

# Each function app is checked from its own folder: Chalice imports every app as
# `app` + `chalicelib`, so two apps cannot be checked in one mypy run.
typecheck: install
	$(BIN)/mypy layers/common/python/shop_common infra/local/shop_local
	@for app in functions/*/app.py; do \
	  dir=$$(dirname $$app); echo "mypy $$dir"; \
	  (cd $$dir && MYPYPATH=$(CURDIR)/layers/common/python:$(CURDIR)/infra/local \
	    $(CURDIR)/$(BIN)/mypy --config-file $(CURDIR)/pyproject.toml app.py chalicelib) || exit 1; \
	done

# The benchmark's own packages (the HTTP servers it compares, psycopg); wrk comes
# with system-deps, serverless-offline from npm on first use (var/bench/sls).
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: install $(BENCH_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf var $(VENV)
