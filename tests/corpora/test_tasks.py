from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from apps.corpora import services, tasks
from apps.corpora.models import IngestionJob, JobStatus

WATCH_PATH = "apps.corpora.tasks.watch_ingestion_job"


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.INGEST_STALE_SECONDS = 300


def watches() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=WATCH_PATH, status="READY"))


def test_a_started_job_is_watched_from_when_it_could_first_go_stale(
    corpus, rules_file, database_tasks
):
    job = services.ingestion_job_create(corpus=corpus, paths=[str(rules_file)])
    before = timezone.now()

    tasks.ingest.call(job.pk)

    (watch,) = watches()
    assert watch.args_kwargs["args"] == [job.pk]
    limit = timedelta(seconds=300) + tasks.WATCH_MARGIN
    assert before + limit <= watch.run_after <= timezone.now() + limit


def test_the_watch_fails_a_silent_job_and_stops(corpus, database_tasks):
    job = IngestionJob.objects.create(
        corpus=corpus,
        status=JobStatus.RUNNING,
        started_at=timezone.now() - timedelta(minutes=20),
        heartbeat_at=timezone.now() - timedelta(minutes=6),
    )

    result = tasks.watch_ingestion_job.call(job.pk)

    assert result == {"job": job.pk, "reaped": [job.pk]}
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "no heartbeat since" in job.errors[-1]
    assert watches() == []


def test_the_watch_looks_again_while_the_job_beats(corpus, database_tasks):
    beat = timezone.now() - timedelta(seconds=30)
    job = IngestionJob.objects.create(
        corpus=corpus, status=JobStatus.RUNNING, started_at=beat, heartbeat_at=beat
    )

    assert tasks.watch_ingestion_job.call(job.pk) == {"job": job.pk, "reaped": []}

    (watch,) = watches()
    assert watch.run_after == beat + timedelta(seconds=300) + tasks.WATCH_MARGIN
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING


def test_in_process_tasks_need_no_watch(corpus, rules_file):
    job = services.ingestion_job_create(corpus=corpus, paths=[str(rules_file)])

    tasks.ingest.enqueue(job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert not DBTaskResult.objects.exists()
