from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.models import Role
from apps.accounts.services import role_assign
from tests.corpora.conftest import ingest


@pytest.fixture
def job(corpus, rules_file):
    return ingest(corpus, rules_file)


def test_corpus_admins_follow_job_progress_over_the_api(client: Client, alice, job):
    role_assign(user=alice, role=Role.CORPUS_ADMIN)
    client.force_login(alice)

    detail = client.get(f"/api/v1/ingestion-jobs/{job.pk}/").json()
    listing = client.get("/api/v1/ingestion-jobs/").json()

    assert detail["status"] == "succeeded" and detail["progress_percent"] == 100
    assert detail["progress_done"] == detail["progress_total"] == job.chunks_written
    assert detail["corpus"] == "alpha" and detail["errors"] == []
    assert [j["id"] for j in listing] == [job.pk]


def test_practitioners_cannot_see_ingestion_jobs(client: Client, alice, job):
    client.force_login(alice)
    assert client.get(f"/api/v1/ingestion-jobs/{job.pk}/").status_code == 404
    assert client.get("/api/v1/ingestion-jobs/").json() == []


def test_anonymous_requests_are_refused(client: Client, job):
    assert client.get(f"/api/v1/ingestion-jobs/{job.pk}/").status_code in (401, 403)
