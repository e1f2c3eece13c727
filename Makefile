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
STAMP_EMULATOR := $(VENV)/.installed-emulator
NODE_STAMP := node_modules/.installed
# pip names each package as it goes: a first run takes a minute or two and must not look stuck.
PIP_FLAGS ?= --disable-pip-version-check --progress-bar off

.PHONY: help serve serve-aws test lint format typecheck bench clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is required (python3 --version)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip

$(STAMP_RUNTIME): pyproject.toml | $(BIN)/python
	@echo "==> Installing imagegen into $(VENV) (first run only; about a minute)"
	$(BIN)/python -m pip install $(PIP_FLAGS) -e .
	@touch $@

$(STAMP_EMULATOR): pyproject.toml | $(BIN)/python
	@echo "==> Installing imagegen and the AWS emulation into $(VENV) (first run only)"
	$(BIN)/python -m pip install $(PIP_FLAGS) -e '.[emulator]'
	@touch $@ $(STAMP_RUNTIME)

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	@echo "==> Installing imagegen with its development and CDK tools into $(VENV) (first run only; a few minutes)"
	$(BIN)/python -m pip install $(PIP_FLAGS) -e '.[dev,infra]'
	@touch $@ $(STAMP_RUNTIME) $(STAMP_EMULATOR)

serve: $(STAMP_RUNTIME) ## Run the MCP server locally on http://127.0.0.1:8787/mcp (HOST, PORT, AUTH_TOKEN)
	$(BIN)/imagegen serve

serve-aws: $(STAMP_EMULATOR) ## Run the deployed Lambda handlers behind emulated API Gateway + Lambda + SQS, on moto
	$(BIN)/imagegen serve --backend aws --moto

test: $(STAMP_DEV) $(NODE_STAMP) ## Lint, type-check, check the import layering and run the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

lint: $(STAMP_DEV) ## Lint, check formatting and the import layering
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP_DEV) ## Fix lint findings that ruff can fix and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP_DEV) ## mypy --strict on the core package
	$(BIN)/mypy

bench: $(STAMP_DEV) ## Run the benchmarks and print figures against their targets
	$(BIN)/python -m benchmarks

clean: ## Remove the virtualenv, caches and local data
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache cdk.out .data

# ---- AWS (issue 6): the CDK app in infra/, the dependency layer in layers/ -----------------------------
# The CDK CLI runs cdk.json's `python -m infra.app` with the venv first on PATH. Synthesis needs no AWS
# credentials: the stack is environment-agnostic, and IMDS is skipped so no credential probe can stall.
CDK_ENV := PATH="$(abspath $(BIN)):$$PATH" CDK_DISABLE_VERSION_CHECK=true JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
CDK_ARGS ?=

.PHONY: layer synth deploy

$(NODE_STAMP): package.json package-lock.json
	@echo "==> Installing the Node tools (CDK, conformance suites, Inspector, Node 22) into node_modules"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

layer: $(STAMP_DEV) ## Build the Lambda dependency layer into layers/build (no Docker; skipped when unchanged)
	$(BIN)/python -m layers.build

synth: $(STAMP_DEV) layer $(NODE_STAMP) ## Synthesize the CloudFormation template into cdk.out (offline, CDK_ARGS="-c stage=prod")
	$(CDK_ENV) AWS_EC2_METADATA_DISABLED=true npx --yes cdk synth --quiet $(CDK_ARGS)
	@ls cdk.out/*.template.json

deploy: $(STAMP_DEV) layer $(NODE_STAMP) ## Deploy to the current AWS account and region (run `npx cdk bootstrap` once first)
	$(CDK_ENV) npx --yes cdk deploy --require-approval broadening --outputs-file cdk.out/outputs.json $(CDK_ARGS)
	@$(BIN)/python -m infra.next_steps cdk.out/outputs.json
