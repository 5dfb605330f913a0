# The README's commands. Each sets up what it needs: a venv in .venv with the pinned set
# from constraints.txt, and (for run) a local PostgreSQL under .data/ when DATABASE_URL is unset.

# The app defaults to production (fail closed). These targets are development tools and say
# so; an operator's APP_ENV=production in the environment still wins.
export APP_ENV ?= development

# Python writes bytecode by default; an environment that turns it off makes every run
# recompile the app, the tests (pytest's assertion rewriting) and the alembic scripts, in
# each test worker: seconds per run (docs/testing.md). The caches are git-ignored.
unexport PYTHONDONTWRITEBYTECODE

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-fast lint migrate rollback validate-schema bench db-stop clean container-test

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/auth-service db upgrade
	$(BIN)/auth-service serve --host $(HOST) --port $(PORT)

# Two workers (pytest-xdist), each with a PostgreSQL cluster of its own; tests that share the
# replica run on one worker (the xdist_group set in tests/conftest.py). PYTEST_WORKERS=0 runs
# in this process only (docs/testing.md).
PYTEST_WORKERS ?= 2
XDIST := -n $(PYTEST_WORKERS) --dist loadgroup

test: $(STAMP) lint
	$(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

# The in-process savepoint tests only: no cluster, process, browser, timing or slow test
# (the markers in pyproject.toml; docs/testing.md). For the edit-test loop; `make test` is the gate.
FAST := not (cluster or process or browser or timing or slow)
test-fast: $(STAMP)
	$(BIN)/pytest -m "$(FAST)" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check app tests alembic $(wildcard bench)
	$(BIN)/ruff format --check app tests alembic $(wildcard bench)
	$(BIN)/mypy app tests $(wildcard bench)

migrate: $(STAMP)
	$(BIN)/auth-service db upgrade

rollback: $(STAMP)
	$(BIN)/auth-service db downgrade $(if $(TO),$(TO),-1)

validate-schema: $(STAMP)
	$(BIN)/auth-service db check

$(VENV)/.installed-bench: $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,bench]'
	@touch $@

# BENCH_ARGS=--quick for a short run while working on the bench itself.
bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench $(BENCH_ARGS)

db-stop: $(STAMP)
	$(BIN)/python -c 'from app.db.local import stop_dev_cluster; from app.db.urls import dev_data_dir; stop_dev_cluster(dev_data_dir())'

# Builds the image and runs the compose stack with podman (root, Debian): scripts/container-test.
container-test:
	bash scripts/container-test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
