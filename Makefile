# The project's front door. Every target creates .venv and installs what it needs on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP_RUNTIME := $(VENV)/.installed-runtime
STAMP_DEV := $(VENV)/.installed-dev
PIP_FLAGS ?= --quiet --disable-pip-version-check

.PHONY: help serve test lint format typecheck bench clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is required (python3 --version)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip

$(STAMP_RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) -e .
	@touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) -e '.[dev,infra]'
	@touch $@ $(STAMP_RUNTIME)

serve: $(STAMP_RUNTIME) ## Run the MCP server locally on http://127.0.0.1:8787/mcp (HOST, PORT, AUTH_TOKEN)
	$(BIN)/imagegen serve

test: $(STAMP_DEV) ## Lint, type-check and run the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP_DEV) ## Lint and check formatting
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP_DEV) ## Fix lint findings that ruff can fix and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP_DEV) ## mypy --strict on the core package
	$(BIN)/mypy

bench: $(STAMP_DEV) ## Run the benchmarks and print figures against their targets
	$(BIN)/python -m benchmarks

clean: ## Remove the virtualenv, caches and local data
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache cdk.out .data
