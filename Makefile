# Two commands for people (README): `make demo` and `make test`. The rest is for maintainers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=
# The version matrix's second leg (docs/embedding.md, "Requirements"): the newest Django 6.x on
# Python 3.13, in its own venv from requirements-django6.lock.
D6_VENV := .venv-django6
D6_BIN := $(D6_VENV)/bin
D6_STAMP := $(D6_VENV)/.installed
# python3.13 on PATH only if it runs (a pyenv shim for an unselected version does not), else
# pyenv's newest 3.13.x. Deferred: only test-django6 pays for the probe.
PYTHON313 ?= $(shell for p in python3.13 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 \
	2>/dev/null | sort -rV); do "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' \
	2>/dev/null && { command -v "$$p"; break; }; done)

.PHONY: install demo test test-sqlite test-postgres test-django6 test-django6-run reliability soak \
	lint lock bench clean

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
	$(BIN)/mypy videogen
	$(BIN)/python manage.py makemigrations --check --dry-run

test: lint test-sqlite test-django6 test-postgres reliability soak

test-sqlite: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: install
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) $(BIN)/python -m pytest $(PYTEST_ARGS)

# The SQLite pass again on Django 6.x + Python 3.13 (about 8 minutes). No Python 3.13 on the
# machine skips it with a message; with CI set that is a failure, as for a missing server.
test-django6:
	@if [ -n "$(PYTHON313)" ]; then \
		$(MAKE) --no-print-directory test-django6-run PYTHON313="$(PYTHON313)"; \
	elif [ -n "$$CI" ]; then \
		echo "test-django6: CI needs Python 3.13 (python3.13 on PATH or pyenv's 3.13.x)" >&2; \
		exit 1; \
	else \
		echo "test-django6: SKIPPED, no Python 3.13 (python3.13 on PATH or pyenv's 3.13.x)"; \
	fi

$(D6_STAMP): requirements-django6.lock pyproject.toml
	test -x $(D6_BIN)/python || $(PYTHON313) -m venv $(D6_VENV)
	$(D6_BIN)/python -m pip install --quiet --upgrade pip
	$(D6_BIN)/python -m pip install --quiet -r requirements-django6.lock
	touch $(D6_STAMP)

test-django6-run: $(D6_STAMP)
	env -u DATABASE_URL -u REDIS_URL $(D6_BIN)/python -m pytest $(PYTEST_ARGS)

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

# The second lock (make test-django6) starts from a copy of the first: uv keeps its pins, so
# only Django and what Python 3.13 needs differ between the two.
lock: install
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --all-extras --python-version 3.11 -o requirements.lock
	cp requirements.lock requirements-django6.lock
	$(BIN)/uv pip compile pyproject.toml --all-extras --python-version 3.13 \
		-c constraints-django6.txt -o requirements-django6.lock

clean:
	rm -rf $(VENV) $(D6_VENV) build dist *.egg-info .pytest_cache .ruff_cache

bench: install
	cd bench && ../$(BIN)/python p1_poll_throughput.py
	cd bench && ../$(BIN)/python p2_poll_calls.py
	cd bench && ../$(BIN)/python p3_archive_memory.py
	cd bench && ../$(BIN)/python p4_webhook_latency.py
