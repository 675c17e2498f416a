# Everything runs from a local virtualenv in .venv; no environment variables are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Services tier defaults; override on the command line or in the environment.
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/intelliauth_sms
REDIS_URL ?= redis://127.0.0.1:6379/0
CELERY_BROKER_URL ?= redis://127.0.0.1:6379/1

.PHONY: demo test test-services test-browser test-allauth lint clean

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
# pyproject.toml's addopts, and leaves out the browser and allauth tiers (`make test-browser`,
# `make test-allauth`).
# The URLs are passed to this recipe only, so `make demo` keeps its SQLite defaults.
# INTELLIAUTH_SMS_FILE_PATH is emptied: it is the switch that turns tests.settings_services
# into the Celery worker's settings (tests/services).
test-services: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=tests.settings_services \
	DATABASE_URL='$(DATABASE_URL)' \
	REDIS_URL='$(REDIS_URL)' \
	CELERY_BROKER_URL='$(CELERY_BROKER_URL)' \
	INTELLIAUTH_SMS_FILE_PATH= \
	$(BIN)/pytest -m "not browser and not allauth" -p no:randomly

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
