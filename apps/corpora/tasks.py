from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django_tasks import task

from apps.corpora import services
from apps.corpora.models import IngestionJob, JobStatus
from apps.corpora.pipeline import run_ingestion_job

# Looks at a job this long after its heartbeat could first have gone stale.
WATCH_MARGIN = timedelta(seconds=1)


@task()
def ingest(job_id: int) -> dict:
    """Run one ingestion job; the job row carries progress, counts and errors."""
    services.ingestion_jobs_reap()
    watch(job_id, timezone.now())
    job = run_ingestion_job(job_id)
    return {"job": job.pk, "status": job.status, "errors": len(job.errors)}


@task()
def watch_ingestion_job(job_id: int) -> dict:
    """Fail the job (and any other) if its worker has stopped; while it runs, look again when
    it could next be stale. Any worker takes this up, a restarted one included."""
    reaped = [job.pk for job in services.ingestion_jobs_reap()]
    job = IngestionJob.objects.filter(pk=job_id).only("status", "heartbeat_at").first()
    if job is not None and job.status == JobStatus.RUNNING:
        watch(job_id, job.heartbeat_at)
    return {"job": job_id, "reaped": reaped}


def watch(job_id: int, last_heartbeat: datetime) -> None:
    # Backends that run tasks in-process (the immediate one, in tests) leave nothing to watch.
    if watch_ingestion_job.get_backend().supports_defer:
        due = last_heartbeat + services.ingestion_stale_after() + WATCH_MARGIN
        watch_ingestion_job.using(run_after=due).enqueue(job_id)
