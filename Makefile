# The two commands a fresh machine needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
POSTMAN := tests/postman
NEWMAN_STAMP := $(POSTMAN)/node_modules/.installed
BENCH_STAMP := $(VENV)/.bench-installed
# The folder this Makefile is in, whatever folder `make -f` was run from: what `clean`
# removes is always the checkout's own.
CHECKOUT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

.PHONY: run test install system-deps lint typecheck bench clean postman api-reference

run: install
	$(BIN)/shop up

test: install lint typecheck
	$(BIN)/python -m pytest

install: $(STAMP) system-deps $(NEWMAN_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# newman (npm registry), pinned by the lock file, for the Postman collection.
$(NEWMAN_STAMP): $(POSTMAN)/package-lock.json | system-deps
	npm ci --prefix $(POSTMAN) --no-audit --no-fund --loglevel=error
	touch $(NEWMAN_STAMP)

# Debian packages the stack and its tests need (Prometheus, the Pushgateway,
# docker-compose for validating the compose file, Chromium and its driver for the
# API docs browser test, npm for newman); installed only when missing.
system-deps:
	@bash infra/local/install-system-deps.sh

lint: install
	$(BIN)/ruff check .

# Each function app is checked from its own folder: Chalice imports every app as
# `app` + `chalicelib`, so two apps cannot be checked in one mypy run.
typecheck: install
	$(BIN)/mypy layers/common/python/shop_common infra/local/shop_local tools
	@for app in functions/*/app.py; do \
	  dir=$$(dirname $$app); echo "mypy $$dir"; \
	  (cd $$dir && MYPYPATH=$(CURDIR)/layers/common/python:$(CURDIR)/infra/local \
	    $(CURDIR)/$(BIN)/mypy --config-file $(CURDIR)/pyproject.toml app.py chalicelib) || exit 1; \
	done

# The Postman collection against the stack `make run` started (addresses and the
# superadmin from .env).
postman: install
	$(POSTMAN)/newman.sh

# Rewrite the README's API reference from the services' OpenAPI documents.
api-reference: install
	$(BIN)/python -m tools.api_reference --write README.md

# The benchmark's own packages (the HTTP servers it compares, psycopg); wrk comes
# with system-deps, serverless-offline from npm on first use (var/bench/sls).
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: install $(BENCH_STAMP)
	$(BIN)/python -m bench

# Leaves nothing of the shop behind: `shop reset` (when the venv is there to run it)
# stops the stack and removes the databases, roles, RabbitMQ vhost and users, Redis
# users and keys `shop setup` made; then what the stack wrote, the venv, the metadata
# `pip install -e` wrote (*.egg-info), newman's npm packages and the caches of pytest,
# hypothesis, mypy, ruff and Python go. `.env` stays (its settings may be yours), and so
# do the Debian packages and the host's RabbitMQ set-up (the Prometheus plugin). A reset
# that fails does not stop the removal.
clean:
	-cd "$(CHECKOUT)" && (test ! -x $(BIN)/shop || $(BIN)/shop reset --yes)
	cd "$(CHECKOUT)" && rm -rf var $(VENV) *.egg-info $(POSTMAN)/node_modules
	cd "$(CHECKOUT)" && rm -rf .pytest_cache .hypothesis .mypy_cache .ruff_cache \
	  functions/*/.mypy_cache
	find "$(CHECKOUT)" -path "$(CHECKOUT)/.git" -prune -o -type d -name __pycache__ -prune \
	  -exec rm -rf {} +
