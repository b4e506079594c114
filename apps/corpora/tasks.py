from __future__ import annotations

from django_tasks import task

from apps.corpora.pipeline import run_ingestion_job


@task()
def ingest(job_id: int) -> dict:
    """Run one ingestion job; the job row carries progress, counts and errors."""
    job = run_ingestion_job(job_id)
    return {"job": job.pk, "status": job.status, "errors": len(job.errors)}
