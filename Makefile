# Everything runs from a local virtualenv in .venv; no environment variables are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Services tier defaults; override on the command line or in the environment.
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/intelliauth_sms
REDIS_URL ?= redis://127.0.0.1:6379/0
CELERY_BROKER_URL ?= redis://127.0.0.1:6379/1

.PHONY: demo test test-services test-scale test-openapi test-allauth test-browser lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[test]'
	touch $@

$(VENV)/.installed-browser: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[test,browser]'
	touch $@

$(VENV)/.installed-allauth: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[test,allauth]'
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

# The whole suite, services-marked tests included: this `-m` replaces the one in
# pyproject.toml's addopts, and leaves out the browser, scale, openapi and allauth tiers.
# The URLs are passed to this recipe only, so `make demo` keeps its SQLite defaults.
# INTELLIAUTH_SMS_FILE_PATH is emptied: it is the switch that turns tests.settings_services
# into the Celery worker's settings (tests/concurrency).
test-services: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=tests.settings_services \
	DATABASE_URL='$(DATABASE_URL)' \
	REDIS_URL='$(REDIS_URL)' \
	CELERY_BROKER_URL='$(CELERY_BROKER_URL)' \
	INTELLIAUTH_SMS_FILE_PATH= \
	$(BIN)/pytest -m "not browser and not scale and not openapi and not allauth" -p no:randomly

# Several processes, as in production: gunicorn with 4 workers, two Celery workers and
# beat on PostgreSQL and the Redis cache, with a Redis broker of the tier's own (started on
# SCALE_BROKER_PORT, stopped and restarted by a test), driven over HTTP (tests/scale).
SCALE_BROKER_PORT ?= 6391
test-scale: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=tests.scale.settings \
	DATABASE_URL='$(DATABASE_URL)' \
	REDIS_URL='$(REDIS_URL)' \
	CELERY_BROKER_URL='redis://127.0.0.1:$(SCALE_BROKER_PORT)/0' \
	INTELLIAUTH_SMS_FILE_PATH= \
	$(BIN)/pytest -m scale -p no:randomly tests/scale

# schemathesis against the example site's OpenAPI schema (tests/openapi), on SQLite and
# then on PostgreSQL and Redis (the same URLs as the services tier). Every generated request
# must get an answer that is no server error and that the schema documents.
test-openapi: $(VENV)/.installed
	$(BIN)/pytest -m openapi -p no:randomly
	DJANGO_SETTINGS_MODULE=tests.settings_services \
	DATABASE_URL='$(DATABASE_URL)' \
	REDIS_URL='$(REDIS_URL)' \
	CELERY_BROKER_URL='$(CELERY_BROKER_URL)' \
	INTELLIAUTH_SMS_FILE_PATH= \
	$(BIN)/pytest -m openapi -p no:randomly

# The demo pages in a real browser: Playwright drives the system's Chromium
# (/usr/bin/chromium, `apt-get install chromium`; never `playwright install`) against a live
# server with the demo app installed. Fails, never skips, when Chromium cannot start.
test-browser: $(VENV)/.installed-browser
	DJANGO_SETTINGS_MODULE=tests.settings_browser $(BIN)/pytest -m browser

# Real django-allauth views (signup and login by phone) sending their codes through the app's
# gate, records and delivery (intelliauth_sms.contrib.allauth); SQLite, eager Celery.
test-allauth: $(VENV)/.installed-allauth
	DJANGO_SETTINGS_MODULE=tests.allauth_site.settings $(BIN)/pytest -m allauth

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy intelliauth_sms

clean:
	rm -rf $(VENV) .tox .mypy_cache .ruff_cache build dist *.egg-info db.sqlite3
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
