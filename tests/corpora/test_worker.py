from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.corpora.management.commands.ingest import check_alive
from apps.corpora.models import Document, IngestionJob, JobStatus


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ingest_wait_follows_a_real_worker_to_the_end(corpus, rules_file, database_url, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    worker = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--no-reload",
            "--interval",
            "0.2",
            "--max-tasks",
            "1",
            "--no-startup-delay",
        ],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    out, err = StringIO(), StringIO()
    try:
        call_command("ingest", str(rules_file), corpus="alpha", wait=True, stdout=out, stderr=err)
        assert worker.wait(timeout=60) == 0, worker.stderr.read().decode()[-2000:]
    finally:
        worker.kill()

    assert "Succeeded: 1 new" in out.getvalue()
    job = IngestionJob.objects.get()
    assert job.status == JobStatus.SUCCEEDED and job.heartbeat_at is not None
    assert Document.objects.get().external_id == "cobs.md"


def test_a_job_whose_worker_went_silent_is_reported(corpus):
    job = IngestionJob.objects.create(
        corpus=corpus,
        status=JobStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(minutes=12),
    )
    with pytest.raises(CommandError, match="reported nothing for 12 minutes"):
        check_alive(job)
