PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST := 127.0.0.1:8000

.PHONY: install demo serve test lint bench-ingest bench-retrieval bench-load bench-audit clean-db

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

## The demo corpora (loaded into var/bench-load the first time) served by gunicorn on
## 127.0.0.1, under searches and questions from concurrent users (default 8 users, 60 s).
bench-load: install
	$(PY) -m bench.load $(ARGS)

## QLoRA against LoRA and full fine-tuning of Gemma-3-270M, same batches, one process each
## (FINETUNE_DATASET: a build_sft_dataset folder, built from 40 ObliQA tuning questions when
## absent). ARGS="--device cuda" on a GPU machine.
FINETUNE_DATASET ?= var/bench-finetune-dataset
.PHONY: bench-finetune
bench-finetune: install
	test -f $(FINETUNE_DATASET)/manifest.json || $(PY) manage.py build_sft_dataset \
		--questions ../shared/data/obliqa/questions.dev.jsonl --out $(FINETUNE_DATASET) \
		--sources 2 --limit-per-file 40
	$(PY) -m bench.finetune --dataset $(FINETUNE_DATASET) $(ARGS)

## In a scratch database (bench_audit, dropped afterwards): verify_audit over 100,000 events,
## and what writing an event adds to a request.
bench-audit: install
	$(PY) -m bench.audit $(ARGS)

clean-db:
	rm -rf var/pgdata

.PHONY: deploy-secrets deploy-check

## Random passwords and keys, and a self-signed TLS certificate for SERVER_NAME, under
## deploy/secrets/ for deploy/compose.yaml (never committed; existing files are kept). The
## folder is the owner's alone; the files are readable by the containers' own users.
deploy-secrets:
	@mkdir -p deploy/secrets && chmod 700 deploy/secrets
	@cd deploy/secrets && for name in db_superuser_password db_owner_password db_app_password secret_key; do \
	  [ -s $$name ] || openssl rand -base64 48 | tr -d '\n/+=' > $$name; done
	@cd deploy/secrets && { [ -s audit_signing_key.pem ] || openssl genpkey -algorithm ed25519 -out audit_signing_key.pem; }
	@name=$$(sed -n 's/^SERVER_NAME=//p' deploy/.env 2>/dev/null); name=$${name:-localhost}; \
	  cd deploy/secrets && { [ -s tls_certificate.pem ] || openssl req -x509 -newkey rsa:3072 -nodes -days 90 \
	  -subj "/CN=$$name" -addext "subjectAltName=DNS:$$name" \
	  -keyout tls_private_key.pem -out tls_certificate.pem 2>/dev/null; }
	@chmod 644 deploy/secrets/*
	@ls deploy/secrets

## The deploy/ checks alone: the compose file, the Kubernetes manifests, the production server.
deploy-check: install
	$(PY) -m pytest tests/deploy tests/test_settings.py
