# Two commands for people (README): `make demo` and `make test`. The rest is for maintainers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.PHONY: install demo test test-sqlite test-postgres reliability soak lint lock bench clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/python -m project.rundemo

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy --follow-imports=silent videogen/api.py
	$(BIN)/python manage.py makemigrations --check --dry-run

test: lint test-sqlite test-postgres reliability soak

test-sqlite: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: install
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) $(BIN)/python -m pytest $(PYTEST_ARGS)

# docs/reliability.md: scale-out, chaos, provider faults and webhook outages on PostgreSQL with
# Redis (the heavy runs start their own redis-server and qcluster nodes); about 15 minutes.
reliability: install
	VIDEOGEN_RELIABILITY=1 DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) \
		$(BIN)/python -m pytest -m reliability tests/reliability $(PYTEST_ARGS)

# The shipped demo (`make demo`: sandbox, qcluster, web server) run unattended for minutes,
# on its own SQLite settings, then on PostgreSQL + Redis; about 6 minutes each.
soak: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python -m pytest -s -m soak tests/soak $(PYTEST_ARGS)
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) \
		$(BIN)/python -m pytest -s -m soak tests/soak $(PYTEST_ARGS)

lock: install
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --all-extras --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache

bench: install
	cd bench && ../$(BIN)/python p1_poll_throughput.py
	cd bench && ../$(BIN)/python p2_poll_calls.py
	cd bench && ../$(BIN)/python p3_archive_memory.py
	cd bench && ../$(BIN)/python p4_webhook_latency.py
