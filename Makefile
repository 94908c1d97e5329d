# Sherlog developer commands. Every target installs what it needs into .venv first.
#
#   make demo    install, then analyse a simulated incident on the embedded defaults (no network, no LLM)
#   make test    install, then run the whole test suite (lint and types included)
#   make serve   install, then run the API on http://127.0.0.1:8080
#   make lint    ruff + mypy
#   make bench   run every benchmark in bench/ (prints tables and a JSON line each)
#
# Outside this project's CI machines, torch's CPU build comes from PyTorch's own index:
#   make demo TORCH_INDEX=https://download.pytorch.org/whl/cpu

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.sherlog-installed
TORCH_VERSION ?= 2.13.0
TORCH_INDEX ?=
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test test-fast lint serve bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (Sherlog needs Python 3.11; set PYTHON=...)"; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# torch first, CPU build, so sentence-transformers does not pull a multi-GB CUDA build
	$(PIP) install --quiet torch==$(TORCH_VERSION) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PIP) install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/sherlog demo

# the per-test timeout (pytest-timeout) is set in pyproject.toml, for every way of running pytest
test: $(STAMP) lint
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest -q -x -m "not integration and not browser and not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check bot retrieval detectors connectors prompts config bench tests
	$(VENV)/bin/mypy bot retrieval detectors connectors prompts config

serve: $(STAMP)
	$(VENV)/bin/sherlog serve

bench: $(STAMP)
	@for b in $$(ls bench/*.py | grep -v __init__ | sed 's#bench/##; s#\.py##'); do \
		echo "=== bench.$$b"; $(PY) -m bench.$$b || exit 1; done
	@echo "=== bench.casebook"; $(PY) -m bench.casebook
	@echo "=== bench.casebook.perturb"; $(PY) -m bench.casebook.perturb
	@echo "=== bench.resilience"; $(PY) -m bench.resilience

clean:
	rm -rf $(VENV) .sherlog demo-out .pytest_cache .mypy_cache .ruff_cache
