# Folio: `make run` to try it, `make test` to check it. Works on a fresh Debian machine with Python 3.11.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check -q
# Tests run on every core (at most 4): each worker has its own PostgreSQL cluster and, for browser tests, live server.
PYTEST_ARGS ?= -n auto --maxprocesses=4

.PHONY: run test install install-test migrate seed translations messages chromium postgresql jpegtran oidc-provider badges-verifier clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e . 2> >(grep -v "is ignored" >&2)
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) install -e ".[test]" 2> >(grep -v "is ignored" >&2)
	touch $@

install: $(VENV)/.installed translations
install-test: $(VENV)/.installed-test translations

translations: $(VENV)/.installed
	@$(BIN)/pybabel -q compile -d app/translations

messages: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F app/translations/babel.cfg -o app/translations/messages.pot \
		--project=Folio --version=0.1 --no-location --sort-output --ignore-dirs=".* __pycache__" .
	$(BIN)/pybabel -q update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching

migrate: install
	$(BIN)/folio migrate

seed: migrate
	$(BIN)/folio seed-demo --if-empty

run: seed jpegtran
	$(BIN)/folio serve

# Debian's Chromium for the browser tests; installed when missing and we are root.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing Debian's chromium for the browser tests..."; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "Browser tests need Chromium at /usr/bin/chromium: run 'sudo apt-get install chromium'."; \
		fi; \
	fi

# PostgreSQL server binaries for the throwaway test cluster; installed when missing and we are root.
postgresql:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v pg_ctl >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing PostgreSQL server binaries for the tests..."; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
		else \
			echo "PostgreSQL tests need the server binaries: run 'sudo apt-get install postgresql'."; \
		fi; \
	fi

test: install-test chromium postgresql jpegtran oidc-provider badges-verifier
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Node.js and the pinned OpenID Connect provider (tests/oidc/) that the single sign-on tests sign in at; Node is
# installed when missing and we are root. Without it those tests skip, except in CI, where this fails.
oidc-provider: tests/oidc/node_modules/.package-lock.json

tests/oidc/node_modules/.package-lock.json: tests/oidc/package-lock.json
	@if ! command -v npm >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Node.js and npm for the single sign-on tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	fi
	@if command -v npm >/dev/null; then \
		cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error; \
	elif [ "$$CI" = true ]; then \
		echo "CI: the single sign-on tests need Node.js and npm, and they could not be installed." >&2; exit 1; \
	else \
		echo "Single sign-on tests need Node.js: run 'sudo apt-get install nodejs npm'."; \
	fi

# The independent verifier of Folio's Open Badges credentials (tests/badges/: Digital Bazaar's @digitalbazaar/vc and
# eddsa-rdfc-2022 cryptosuite, pinned). Needs Node like oidc-provider (which installs it); without it those tests
# skip, except in CI, where this fails.
badges-verifier: tests/badges/node_modules/.package-lock.json

tests/badges/node_modules/.package-lock.json: tests/badges/package-lock.json | oidc-provider
	@if command -v npm >/dev/null; then \
		cd tests/badges && npm ci --no-audit --no-fund --loglevel=error; \
	elif [ "$$CI" = true ]; then \
		echo "CI: the credential verifier tests need Node.js and npm, and they could not be installed." >&2; exit 1; \
	else \
		echo "Credential verifier tests need Node.js: run 'sudo apt-get install nodejs npm'."; \
	fi

# libjpeg-turbo's jpegtran turns sideways JPEG photos upright without re-encoding them; installed when missing and
# we are root. Without it, such photos are re-encoded at quality 95 (and flagged as re-encoded).
jpegtran:
	@if ! command -v jpegtran >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing libjpeg-turbo's jpegtran for lossless photo rotation..."; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjpeg-turbo-progs >/dev/null; \
		else \
			echo "Lossless photo rotation needs jpegtran: run 'sudo apt-get install libjpeg-turbo-progs'."; \
		fi; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache *.egg-info
	find app tests -name __pycache__ -type d -prune -exec rm -rf {} +
