# Quick start: `make demo`, `make test`. Everything runs from a local .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-store-pg test-browser screenshots acn-report bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch node_modules/.installed

demo: install
	$(BIN)/python -m csms.demo

test: install node_modules/.installed
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The store tests again, against PostgreSQL (CI sets CSMS_TEST_DATABASE_URL).
test-store-pg: install
	$(BIN)/python -m pytest -q -p no:cacheprovider -m store

test-browser: install
	$(BIN)/python -m pytest -q -p no:cacheprovider -m browser tests/browser

screenshots: install
	$(BIN)/python docs/screenshots/generate.py

# Rebuilds docs/acn-results.md from ../shared/data/acn (developer data, not shipped).
acn-report: install
	$(BIN)/python -m csms.evaluate.report --month 2019-10

bench: install
	$(BIN)/python -m benchmarks

lint: install
	$(BIN)/ruff check csms simulators tests benchmarks alembic
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) node_modules csms.db
