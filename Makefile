# The README's two commands: `make demo` and `make test`. Both set up everything on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CHECKOV_VENV ?= .venv-checkov

.PHONY: demo test lint install system-deps bench clean

$(BIN)/.installed-demo: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(BIN)/.installed-dev: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(BIN)/.installed-demo $@

$(CHECKOV_VENV)/bin/checkov:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q "checkov==3.3.30"

install: $(BIN)/.installed-dev $(CHECKOV_VENV)/bin/checkov

system-deps:
	./scripts/ensure-system-deps.sh

## demo: generate a month of data and run the whole pipeline on the embedded default (local lake + DuckDB)
demo: $(BIN)/.installed-demo
	$(BIN)/shopdw demo

## test: every tier (unit, integration with real DuckDB/PostgreSQL/S3 API server/dbt/Airflow/Chromium, e2e)
test: install system-deps
	$(BIN)/ruff check src tests dags benchmarks
	SHOPDW_CHECKOV=$(abspath $(CHECKOV_VENV))/bin/checkov $(BIN)/python -m pytest tests

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check src tests dags benchmarks
	$(BIN)/ruff format --check src tests dags benchmarks

bench: $(BIN)/.installed-dev
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) lake warehouse site exports
