# Everything runs from a local virtualenv in .venv; no environment variables are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Services tier defaults; override on the command line or in the environment.
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/intelliauth_sms
REDIS_URL ?= redis://127.0.0.1:6379/0
CELERY_BROKER_URL ?= redis://127.0.0.1:6379/1

.PHONY: demo test test-services lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[test]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python manage.py migrate
	$(BIN)/python manage.py create_demo_user
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(VENV)/.installed
	$(BIN)/pytest

# The URLs are passed to this recipe only, so `make demo` keeps its SQLite defaults.
test-services: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=tests.settings_services \
	DATABASE_URL='$(DATABASE_URL)' \
	REDIS_URL='$(REDIS_URL)' \
	CELERY_BROKER_URL='$(CELERY_BROKER_URL)' \
	$(BIN)/pytest -m services -p no:randomly

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy intelliauth_sms

clean:
	rm -rf $(VENV) .tox .mypy_cache .ruff_cache build dist *.egg-info db.sqlite3
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
