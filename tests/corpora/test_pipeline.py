from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.corpora.models import IngestionJob, JobStatus
from apps.corpora.pipeline import heartbeat


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_long_step_keeps_the_heartbeat_fresh(corpus, settings):
    settings.INGEST_STALE_SECONDS = 1  # a beat every 0.1 s
    started = timezone.now() - timedelta(minutes=1)
    job = IngestionJob.objects.create(
        corpus=corpus, status=JobStatus.RUNNING, started_at=started, heartbeat_at=started
    )

    with heartbeat(job.pk):
        time.sleep(0.5)  # one step that reports no progress
        job.refresh_from_db()
        assert timezone.now() - job.heartbeat_at < timedelta(seconds=0.5)

    job.refresh_from_db()
    last = job.heartbeat_at
    time.sleep(0.3)
    job.refresh_from_db()
    assert job.heartbeat_at == last, "the beat goes on after the job"
