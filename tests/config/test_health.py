from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from config import health


@pytest.fixture(autouse=True)
def fresh_checks(monkeypatch):
    monkeypatch.setattr(health, "passed_once", set())
    monkeypatch.setattr(health, "generator_seen_at", {})


@pytest.fixture
def generator_server(settings):
    """A server on the loopback whose /health answers with `status[0]`."""
    status = [200]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status[0] if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.GENERATOR_BACKEND = "tgi"
    settings.TGI_URL = f"http://127.0.0.1:{server.server_port}"
    yield status
    server.shutdown()
    server.server_close()


def readyz(**headers):
    return Client().get("/readyz", **headers)


def test_liveness_answers_probes_by_address_over_plain_http(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_every_part_is(db, settings, embedder):
    settings.SECURE_SSL_REDIRECT = True
    response = readyz(HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ready",
        "checks": {
            "database": "ok",
            "migrations": "ok",
            "embedding_model": "ok",
            "generator": "ok",
        },
    }


def test_not_ready_while_migrations_are_pending(db, embedder, monkeypatch):
    monkeypatch.setattr(
        MigrationExecutor, "migration_plan", lambda self, targets: [("corpora.0099_new", False)]
    )
    response = readyz()
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"].startswith("failed: 1 migrations not applied")


def test_not_ready_without_the_database(db, monkeypatch):
    def down():
        raise OSError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", down)
    checks = readyz().json()["checks"]
    assert checks["database"] == "failed: connection refused"
    assert checks["migrations"] == "skipped: no database"


def test_not_ready_when_the_embedding_model_cannot_load(db, monkeypatch, tmp_path):
    from apps.corpora import embedding

    # The configured model, loaded once per process, is a folder that is not there.
    missing = str(tmp_path / "missing-model")
    monkeypatch.setattr(embedding, "get_embedder", lambda: embedding.Embedder(missing, 32))
    response = readyz()
    assert response.status_code == 503
    assert "models are never downloaded" in response.json()["checks"]["embedding_model"]


def test_ready_with_a_reachable_generator_server(db, embedder, generator_server):
    assert readyz().json()["checks"]["generator"] == "ok"


def test_not_ready_while_the_generator_server_is_not(db, embedder, generator_server):
    generator_server[0] = 503
    response = readyz()
    assert response.status_code == 503
    assert response.json()["checks"]["generator"].endswith("/health answered 503")


def test_not_ready_when_the_generator_server_is_unreachable(db, embedder, settings):
    settings.GENERATOR_BACKEND = "tgi"
    settings.TGI_URL = "http://127.0.0.1:9"
    response = readyz()
    assert response.status_code == 503
    assert "unreachable" in response.json()["checks"]["generator"]


def test_the_probe_paths_are_not_found_through_the_proxy(db):
    for path in ("/healthz", "/readyz"):
        response = Client().get(path, HTTP_X_FORWARDED_FOR="198.51.100.7")
        assert response.status_code == 404


def test_the_checks_run_from_the_command_line(db, capsys):
    assert health.main(["database"]) == 0
    assert json.loads(capsys.readouterr().out) == {"database": "ok"}


def test_the_command_line_fails_while_a_check_does(db, monkeypatch, capsys):
    def down():
        raise OSError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", down)
    assert health.main(["database"]) == 1
    assert json.loads(capsys.readouterr().err) == {"database": "failed: connection refused"}
