# The two set-up commands: `make run` and `make test` (both idempotent).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# the suite runs in two processes (pytest-xdist; each its own test database and Redis database,
# tests/xdist_env.py), a test file to a process; PYTEST_WORKERS=0 runs it in this one
PYTEST_WORKERS ?= 2

.PHONY: run test install lint format worker beat migrate messages screenshot bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

# `make run` is the one place DEBUG defaults to on (a local try-out); everywhere else it is off.
run: export DEBUG ?= true
run: migrate
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py seed_sms_demo
	$(BIN)/python manage.py seed_journey_demo
	$(BIN)/python manage.py ensure_admin
	@echo "Serving http://$(HOST):$(PORT)/admin/  (health: http://$(HOST):$(PORT)/healthz)"
	$(BIN)/python manage.py serve $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/audit_requirements.py

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

worker: install
	$(BIN)/celery -A config worker -l INFO -Q default,imports,sending,iys,webhooks

beat: install
	$(BIN)/celery -A config beat -l INFO

messages: install
	$(BIN)/python manage.py makemessages -l tr --ignore=.venv --ignore=tests --ignore=bench
	$(BIN)/python manage.py compilemessages --ignore=.venv

screenshot: install
	$(BIN)/python -m pytest tests/browser -k dashboard --screenshot-to docs/dashboard.png

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
