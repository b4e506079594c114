from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.corpora import services, tasks
from apps.corpora.management.commands.ingest import check_alive
from apps.corpora.models import Chunk, Document, IngestionJob, JobStatus
from apps.retrieval.legs import read_index
from apps.retrieval.models import Bm25Index as Bm25IndexRow
from apps.retrieval.models import Bm25IndexStatus
from apps.retrieval.tokenize import index_terms
from tests.corpora.conftest import RULES_V1

# A real db_worker process, with a short heartbeat limit. PARK holds it in the middle of a job,
# right after the first document is committed, until it is killed.
WORKER = """
import os, time, django
django.setup()
from django.conf import settings
from django.core.management import call_command
settings.INGEST_STALE_SECONDS = float(os.environ["STALE_SECONDS"])
if os.environ.get("PARK"):
    from apps.corpora import services
    real_ingest = services.document_ingest

    def ingest_then_park(**kwargs):
        result = real_ingest(**kwargs)
        time.sleep(3600)
        return result

    services.document_ingest = ingest_then_park
call_command("db_worker", "--no-reload", "--interval", "0.2", "--no-startup-delay", verbosity=0)
"""
STALE_SECONDS = 2
OUTSOURCING_RULES = """# General Rules

## 3 Outsourcing

3.1.1 An Authorised Person that outsources a function remains responsible for it and must
notify the Regulator of any material outsourcing arrangement.
"""


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


def start_worker(database_url: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER],
        cwd=django_settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": database_url, "STALE_SECONDS": str(STALE_SECONDS)} | env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(condition, what: str, worker: subprocess.Popen, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while not condition():
        if worker.poll() is not None:
            pytest.fail(f"the worker exited while waiting for {what}: {worker.stderr.read()!r}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} after {timeout} s")
        time.sleep(0.2)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_job_whose_worker_was_killed_is_failed_and_its_corpus_reindexed(
    corpus, tmp_path, database_url, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    first, second = tmp_path / "a-cobs.md", tmp_path / "b-gen.md"
    first.write_text(RULES_V1)
    second.write_text(OUTSOURCING_RULES)
    job = services.ingestion_job_create(corpus=corpus, paths=[str(first), str(second)])
    tasks.ingest.enqueue(job.pk)

    worker = start_worker(database_url, PARK="1")
    try:
        wait_for(lambda: Document.objects.filter(corpus=corpus).exists(), "document", worker)
        os.kill(worker.pid, signal.SIGKILL)
        assert worker.wait(timeout=30) == -signal.SIGKILL
    finally:
        worker.kill()
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    assert not Bm25IndexRow.objects.filter(corpus=corpus).exists()

    # Another worker (or this one, restarted) takes up the job's watch when it comes due.
    reaper = start_worker(database_url)
    try:
        wait_for(
            lambda: Bm25IndexRow.objects.filter(
                corpus=corpus, status=Bm25IndexStatus.READY
            ).exists(),
            "BM25 index",
            reaper,
            timeout=120,
        )
    finally:
        reaper.terminate()
        reaper.wait(timeout=30)

    job.refresh_from_db()
    assert (job.status, job.stage) == (JobStatus.FAILED, "failed")
    assert f"no heartbeat since {job.heartbeat_at.isoformat(timespec='seconds')}" in job.errors[-1]
    document = Document.objects.get(corpus=corpus)
    assert document.external_id == "a-cobs.md"
    committed = set(Chunk.objects.filter(document=document).values_list("id", flat=True))
    index = read_index(Bm25IndexRow.objects.get(corpus=corpus))
    assert set(index.chunk_ids.tolist()) == committed
    hits = index.search(index_terms("Financial Services Permission"), 3)
    assert hits and hits[0][0] in committed
