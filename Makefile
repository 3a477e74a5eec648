# Set-up and checks for seqzoo. `make test` is what CI runs (through .ci/run).
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))

.PHONY: install test lint run clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml $(addsuffix pyproject.toml,$(PLUGINS))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# Keep a torch that is already installed; otherwise take the pinned CPU build first,
	# so the plain `torch` requirement below does not pull CUDA packages.
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[dev]" $(addprefix -e ,$(PLUGINS))
	touch $@

lint: install
	$(BIN)/ruff check zoo plugins examples tests bench conftest.py

test: install lint
	$(BIN)/python -m pytest -q

run: install
	$(BIN)/zoo train charlm lstm

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
