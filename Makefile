# The README starts with `make run` and `make test`; both build their own venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck pytest schema bench bench-quick clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(BIN)/sets serve --demo

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check sets tests bench
	$(BIN)/ruff format --check sets tests bench

typecheck: $(STAMP)
	$(BIN)/mypy sets/domain sets/services

pytest: $(STAMP)
	$(BIN)/pytest -q

# Benchmarks on SQLite and PostgreSQL (needs the test services); results in bench/results/.
bench: $(STAMP)
	$(BIN)/python -m bench.run

bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --quick

schema: $(STAMP)
	$(BIN)/sets export-schema > schema.graphql

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
