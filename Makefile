# Open Safe City: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit bench clean

# The plate detector's model ships in the `platedet` wheel (AGPL-3.0); only its model file is used,
# and the wheel pins old pillow/opencv, so it is installed without its dependencies.
PLATEDET := platedet==0.0.2

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps '$(PLATEDET)'
	@touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/safecity demo

lint: $(STAMP)
	$(BIN)/ruff check safecity tests bench
	$(BIN)/ruff format --check safecity tests bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict safecity

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

bench: $(STAMP)
	@set -e; for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f; done

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
