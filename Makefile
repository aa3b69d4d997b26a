# Webinars: `make run` serves the site (with its mail worker) on SQLite; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
FLASK := $(BIN)/flask --app webinars
DRY_RUN ?= 0
# The suite waits on browsers, servers and databases as much as it computes: one process per core.
TEST_PROCESSES ?= auto
export TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install run worker test deps lint migrate-check bench clean translations

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install  ## serve on http://127.0.0.1:5000 with a mail worker; mail lands in instance/mail/
	$(FLASK) db upgrade
	WEBINARS_CONFIG=$${WEBINARS_CONFIG:-development} BASE_URL=$${BASE_URL:-http://$(HOST):$(PORT)} \
		$(FLASK) serve --host $(HOST) --port $(PORT)

worker: install  ## run a mail worker on its own
	$(FLASK) worker

deps:  ## what the system must provide (venv, Chromium, libical, ical.js, nginx, PostgreSQL, Redis); DRY_RUN=1 lists
	DRY_RUN=$(DRY_RUN) PYTHON=$(PYTHON) scripts/deps.sh

test: deps lint  ## lint, then the whole suite, on SQLite and on PostgreSQL, one process per core
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist worksteal

lint: install  ## style, formatting, the import contracts and the types (pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

migrate-check: install  ## the models and migrations/ agree
	scripts/migrate-check.sh

bench: install  ## benchmarks: results in bench-results/ and docs/benchmarks.md
	$(BIN)/pip install --quiet -e '.[dev,bench]' && $(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/calendar_check/node_modules tests/e2e/node_modules

translations: install  ## extract strings, update es/pt catalogues, compile them
	mkdir -p webinars/translations
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o webinars/translations/messages.pot --no-location --sort-output --project Webinars .
	for lang in $$($(BIN)/python -c 'import config; print(*(c for c in config.Config.LANGUAGES if c != "en"))'); do \
	  if [ -f webinars/translations/$$lang/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel update -i webinars/translations/messages.pot -d webinars/translations -l $$lang --no-fuzzy-matching; \
	  else \
	    $(BIN)/pybabel init -i webinars/translations/messages.pot -d webinars/translations -l $$lang; \
	  fi; \
	done
	$(BIN)/pybabel compile -d webinars/translations
