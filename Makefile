# mlsd-mock: `make run` starts the app, `make test` proves it. Everything else is a helper.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# A Python 3.12+ interpreter: `.python-version` makes pyenv's python3 resolve to 3.12 here;
# otherwise python3.13 or python3.12 on the PATH.
PYTHON ?= $(shell for p in python3 python3.13 python3.12; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; \
	then command -v $$p; break; fi; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run` is local development: debug on, SQLite and the filesystem broker unless the
# environment says otherwise.
RUN_ENV := DEBUG=$${DEBUG:-1}
# Local data (SQLite file, broker folders, uploads); MLSD_VAR_DIR moves it.
VAR_DIR := $(or $(MLSD_VAR_DIR),var)

# Mermaid (diagrams in interview answers) is vendored from the npm registry at install time,
# never committed: a pinned version, checked against the registry's sha512 integrity, from
# which only dist/mermaid.min.js is kept (gitignored). Bump both lines together; the value is
# what `npm view mermaid@VERSION dist.integrity` prints.
MERMAID_VERSION := 12.3.0
MERMAID_INTEGRITY := sha512-4113TdXeLAsMruJ79OpFL5O8+LTFXhQqZ260rF3tgUmiNAtRm4Uume04I+65PRN6yZ69J4f8rVYWW8zRk65UYw==
MERMAID_DIR := static/vendor/mermaid
MERMAID_STAMP := $(MERMAID_DIR)/.version-$(MERMAID_VERSION)

# axe-core (the accessibility checker the browser tests run on every page) comes the same way:
# pinned, integrity-checked, only axe.min.js kept, gitignored; the tests read it from here.
AXE_VERSION := 4.14.1
AXE_INTEGRITY := sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==
AXE_DIR := tests/e2e/vendor/axe-core
AXE_STAMP := $(AXE_DIR)/.version-$(AXE_VERSION)

.PHONY: help run test install bubblewrap lint format lock test-deps clean migrate vendor bench screenshots

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
		echo "error: mlsd-mock needs Python 3.12 or newer (Django 6)."; \
		echo "  Install one (for example 'pyenv install 3.12') or put python3.12 on the PATH."; \
		exit 1; fi
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	@if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then \
		rm -rf $(VENV); $(PYTHON) -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	@touch $(STAMP)

install: $(STAMP) $(MERMAID_STAMP) bubblewrap ## Create .venv, install the pinned dependencies, vendor Mermaid, bubblewrap

# Scoring workers run every model under bubblewrap and refuse to score without it
# (grading/engine/sandbox/). Installed with apt when missing and we may; otherwise say so.
bubblewrap: ## Install bubblewrap (the sandbox scored models run in) when it is missing
	@command -v $${SANDBOX_BWRAP_PATH:-bwrap} >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing bubblewrap (the sandbox scored models run in)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; \
		else \
			echo "error: bubblewrap is needed: the scoring workers run models under it and refuse to score without it."; \
			echo "  Install the package 'bubblewrap' (for example 'sudo apt-get install bubblewrap') and run make again."; \
			exit 1; \
		fi; }

vendor: $(MERMAID_STAMP) ## Vendor the pinned Mermaid into static/vendor/ (needs npm)

$(MERMAID_STAMP):
	@command -v npm >/dev/null 2>&1 || { \
		echo "error: npm (Node.js 18+) is needed once, to fetch Mermaid $(MERMAID_VERSION) for diagrams."; \
		echo "  Install it (for example 'apt-get install nodejs npm') and run make again."; exit 1; }
	@mkdir -p $(VAR_DIR)/npm $(MERMAID_DIR)
	@echo "Vendoring mermaid@$(MERMAID_VERSION) into $(MERMAID_DIR)/"
	@cd $(VAR_DIR)/npm && rm -rf package mermaid-$(MERMAID_VERSION).tgz \
		&& npm pack --silent --prefer-offline mermaid@$(MERMAID_VERSION) >/dev/null
	@$(or $(PYTHON),python3) -c 'import base64, hashlib, sys; \
		got = "sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode(); \
		sys.exit(0 if got == sys.argv[2] else "error: mermaid tarball integrity mismatch: " + got)' \
		$(VAR_DIR)/npm/mermaid-$(MERMAID_VERSION).tgz '$(MERMAID_INTEGRITY)'
	@tar -xzf $(VAR_DIR)/npm/mermaid-$(MERMAID_VERSION).tgz -C $(VAR_DIR)/npm \
		package/dist/mermaid.min.js package/LICENSE
	@mv $(VAR_DIR)/npm/package/dist/mermaid.min.js $(MERMAID_DIR)/mermaid.min.js
	@mv $(VAR_DIR)/npm/package/LICENSE $(MERMAID_DIR)/LICENSE
	@rm -rf $(VAR_DIR)/npm/package $(VAR_DIR)/npm/mermaid-$(MERMAID_VERSION).tgz $(MERMAID_DIR)/.version-*
	@touch $@

$(AXE_STAMP):
	@command -v npm >/dev/null 2>&1 || { \
		echo "error: npm (Node.js 18+) is needed once, to fetch axe-core $(AXE_VERSION) for the browser tests."; \
		echo "  Install it (for example 'apt-get install nodejs npm') and run make again."; exit 1; }
	@mkdir -p $(VAR_DIR)/npm/axe-core $(AXE_DIR)
	@echo "Vendoring axe-core@$(AXE_VERSION) into $(AXE_DIR)/"
	@cd $(VAR_DIR)/npm/axe-core && rm -rf package axe-core-$(AXE_VERSION).tgz \
		&& npm pack --silent --prefer-offline axe-core@$(AXE_VERSION) >/dev/null
	@$(or $(PYTHON),python3) -c 'import base64, hashlib, sys; \
		got = "sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode(); \
		sys.exit(0 if got == sys.argv[2] else "error: axe-core tarball integrity mismatch: " + got)' \
		$(VAR_DIR)/npm/axe-core/axe-core-$(AXE_VERSION).tgz '$(AXE_INTEGRITY)'
	@tar -xzf $(VAR_DIR)/npm/axe-core/axe-core-$(AXE_VERSION).tgz -C $(VAR_DIR)/npm/axe-core \
		package/axe.min.js package/LICENSE
	@mv $(VAR_DIR)/npm/axe-core/package/axe.min.js $(AXE_DIR)/axe.min.js
	@mv $(VAR_DIR)/npm/axe-core/package/LICENSE $(AXE_DIR)/LICENSE
	@rm -rf $(VAR_DIR)/npm/axe-core/package $(VAR_DIR)/npm/axe-core/axe-core-$(AXE_VERSION).tgz $(AXE_DIR)/.version-*
	@touch $@

migrate: install
	@mkdir -p $(VAR_DIR)/staticfiles
	$(RUN_ENV) $(PY) manage.py migrate --noinput

# The dataset secret every random draw of the data derives from: created on the first
# `make run` (256 random bits, readable by you only) and reused afterwards, so the data stays
# the same. MLSD_DATASET_SECRET in the environment wins over it.
DATASET_SECRET_FILE := $(VAR_DIR)/dataset-secret
RUN_SECRET_ENV := MLSD_DATASET_SECRET_FILE=$${MLSD_DATASET_SECRET_FILE:-$(DATASET_SECRET_FILE)}

run: install ## Set up (migrate, catalogue, demo accounts) and serve the app with a Celery worker
	@mkdir -p $(VAR_DIR)/staticfiles
	@$(PY) scripts/devserver.py --create-dataset-secret $(DATASET_SECRET_FILE)
	$(RUN_ENV) $(RUN_SECRET_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(RUN_SECRET_ENV) $(PY) manage.py load_catalogue
	$(RUN_ENV) $(RUN_SECRET_ENV) $(PY) manage.py build_datasets --if-missing --baselines
	$(RUN_ENV) $(RUN_SECRET_ENV) $(PY) manage.py demo_accounts
	$(RUN_ENV) $(RUN_SECRET_ENV) $(PY) scripts/devserver.py --host $(HOST) --port $(PORT)

# `make test PYTEST_XDIST="-n 2 --dist loadgroup"` runs the suite on two pytest-xdist workers
# (about 12-14 minutes instead of 22 on 2 cores; conftest.py keeps the tests that share Redis,
# workers, a browser or var/ in one group). Not the default: under that load a fresh-clone CI
# run on 2026-12-03 had a test database's flush deadlock, a fault test's 9 s task limit
# reached and two timing-bound tests fail (serial CI passed at the stop before).
PYTEST_XDIST ?=

test: install $(AXE_STAMP) ## Lint, check the import contracts, then run the whole test suite
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-logo
	$(PY) -m pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

screenshots: install $(AXE_STAMP) ## Refresh the README's screenshots in docs/img/ (browser tests; needs PostgreSQL and Redis)
	MLSD_REQUIRE_SERVICES=1 MLSD_SCREENSHOT_DIR=$(CURDIR)/docs/img $(PY) -m pytest tests/e2e $(PYTEST_ARGS)

bench: install ## Benchmarks against their floors (needs PostgreSQL and Redis; BENCH_QUICK=1: ~2 min)
	$(PY) -m bench.run $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-logo
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test-deps: $(AXE_STAMP) ## Install what the tests drive: Chromium, bubblewrap, a compose client (Debian), axe-core (npm)
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium fonts-dejavu-core"; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	if command -v docker >/dev/null 2>&1 && ! docker compose version >/dev/null 2>&1 \
		&& ! command -v docker-compose >/dev/null 2>&1; then missing="$$missing docker-compose"; fi; \
	if [ -n "$$missing" ]; then \
		echo "Installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

lock: ## Re-pin requirements.lock from pyproject.toml
	rm -rf var/lockenv && $(PYTHON) -m venv var/lockenv
	var/lockenv/bin/pip install --quiet --upgrade pip
	var/lockenv/bin/pip install --quiet ".[dev,bench]"
	var/lockenv/bin/pip freeze --exclude-editable | grep -v '^mlsd-mock' > requirements.lock
	rm -rf var/lockenv

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) var
