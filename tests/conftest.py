from __future__ import annotations

from pathlib import Path

import pytest


def connect_as(user: str, password: str) -> None:
    """Make every new connection to the default database use these credentials."""
    from django.db import connections

    connection = connections["default"]
    connection.close()
    connection.settings_dict.update(USER=user, PASSWORD=password)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    """The test database is created and migrated by the role that owns the tables, as a
    deployment's is (apps.audit.roles)."""
    from django.db import connections

    default = connections["default"].settings_dict
    default.setdefault("APP_USER", default["USER"])
    default.setdefault("APP_PASSWORD", default.get("PASSWORD", ""))
    connect_as(default["OWNER"]["USER"], default["OWNER"]["PASSWORD"])


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Then the tests connect as the application role, so that they meet the database's real
    protections; the owner drops the database at the end."""
    from django.db import connections

    default = connections["default"].settings_dict
    with django_db_blocker.unblock():
        connect_as(default["APP_USER"], default["APP_PASSWORD"])
    yield
    with django_db_blocker.unblock():
        connect_as(default["OWNER"]["USER"], default["OWNER"]["PASSWORD"])


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    # Tests run background jobs in-process; a real db_worker is exercised where it matters.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def tuned_fusion_file(tmp_path, monkeypatch) -> Path:
    """Each test starts with no domain tuned, so retrieve() fuses by untuned RRF unless the test
    records a tuning of its own in this file."""
    from apps.retrieval import tuned_fusion

    monkeypatch.setattr(tuned_fusion, "FUSION_PATH", tmp_path / "tuned-fusion.json")
    tuned_fusion.tuned.cache_clear()
    yield tuned_fusion.FUSION_PATH
    tuned_fusion.tuned.cache_clear()


@pytest.fixture(scope="session")
def embedder():
    from apps.corpora.embedding import get_embedder

    return get_embedder()


@pytest.fixture
def login(db):
    """A test client signed in as the given user."""
    from django.test import Client

    def client_for(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return client_for


@pytest.fixture
def database_url(db) -> str:
    """A URL for the test database, so that subprocesses (a worker, a killed ingest) share it."""
    from urllib.parse import quote

    from django.db import connection

    params = connection.get_connection_params()
    host = params.get("host") or "localhost"
    auth = quote(params.get("user") or "postgres")
    if params.get("password"):
        auth += ":" + quote(params["password"])
    name = connection.settings_dict["NAME"]
    if host.startswith("/"):
        return f"postgresql://{auth}@/{name}?host={quote(host)}"
    return f"postgresql://{auth}@{host}:{params.get('port') or 5432}/{name}"


@pytest.fixture
def corpus_a(db):
    from apps.corpora import services

    return services.corpus_create(slug="a", name="Corpus A", domain="legal")


@pytest.fixture
def corpus_b(db):
    from apps.corpora import services

    return services.corpus_create(slug="b", name="Corpus B", domain="medical")


def practitioner(username: str, corpus):
    from django.contrib.auth import get_user_model

    from apps.accounts.models import Role
    from apps.accounts.services import corpus_access_grant, role_assign

    user = get_user_model().objects.create_user(username, password=f"{username}-pw")
    role_assign(user=user, role=Role.PRACTITIONER)
    corpus_access_grant(corpus=corpus, user=user)
    return user


@pytest.fixture
def alice(db, corpus_a):
    return practitioner("alice", corpus_a)


@pytest.fixture
def bob(db, corpus_b):
    return practitioner("bob", corpus_b)


@pytest.fixture
def carol(django_user_model):
    from apps.accounts.models import Role
    from apps.accounts.services import role_assign

    user = django_user_model.objects.create_user("carol", password="carol-pw")
    role_assign(user=user, role=Role.AUDITOR)
    return user
