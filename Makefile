# deblurzoo — the two set-up commands are `make train` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install train test test-full lint bench bench-gpu clean-logs

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP) ## create .venv and install deblurzoo with its dev tools (idempotent)

train: install ## make the synthetic dataset, train the default model on CPU, evaluate it, print the table
	$(VENV)/bin/deblurzoo-train

test: install ## run the test suite (without the tests marked slow)
	$(PY) -m pytest -m "not slow" --durations=20

test-full: install ## run every test, the slow ones included
	$(PY) -m pytest

lint: install ## ruff over the package and the tests
	$(VENV)/bin/ruff check src tests

bench: install ## benchmarks into docs/benchmarks.md, one CPU thread (BENCH_ARGS=full=true: every model)
	OMP_NUM_THREADS=1 $(VENV)/bin/deblurzoo-bench $(BENCH_ARGS) write=docs/benchmarks.md

bench-gpu: install ## on a CUDA machine (< 8 min): eager vs fast path at 720x1280, fp32/bf16, into docs/benchmarks_gpu.md
	$(VENV)/bin/deblurzoo-bench sections=[fast] device=cuda 'fast_sizes=[[720,1280]]' write=docs/benchmarks_gpu.md

clean-logs: ## delete training logs and runs
	rm -rf logs
