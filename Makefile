# Talkback: `make run` for the demo stack, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: bench install run test lint format clean

# Create the virtualenv and install Talkback with its dev tools (re-run when pyproject changes).
$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

## Start Redis (embedded unless REDIS_URL is set), migrate, API, worker and sweeper. PORT=8000.
run: install
	$(PY) -m service.launcher

## The whole suite: real Redis and database (DATABASE_URL/REDIS_URL when set, else embedded).
test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	.venv/bin/python bench/scoring.py
	.venv/bin/python bench/worker.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache *.egg-info
