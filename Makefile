PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST := 127.0.0.1:8000

.PHONY: install demo serve test lint bench-ingest bench-retrieval clean-db

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(INSTALLED)

install: $(INSTALLED)

## Install, create the embedded database, load the demo corpora and users, and serve the site
## with a background worker.
demo: install
	$(PY) manage.py migrate --no-input
	$(MAKE) --no-print-directory serve

serve:
	@$(PY) manage.py db_worker --no-reload --interval 0.5 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py load_demo && \
	echo "Serving http://$(HOST)/ (sign in with a demo user above; Ctrl-C stops)" && \
	$(PY) manage.py runserver --noreload $(HOST)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

## Install and run the whole test suite.
test: lint
	$(PY) -m pytest

bench-ingest: install
	$(PY) manage.py migrate --no-input
	$(PY) -m bench.ingest

## Needs an ingested corpus to repeat (make demo loads three).
bench-retrieval: install
	$(PY) manage.py migrate --no-input
	$(PY) -m bench.retrieval $(ARGS)

clean-db:
	rm -rf var/pgdata
