from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from apps.corpora import services, tasks
from apps.corpora.models import Corpus, IngestionJob, JobStatus
from apps.corpora.parsers import SUPPORTED_SUFFIXES

POLL_SECONDS = 0.5
NO_WORKER_HINT_SECONDS = 10


class Command(BaseCommand):
    help = (
        "Queue files (or folders of them) for ingestion into a corpus. Formats: "
        + ", ".join(sorted(SUPPORTED_SUFFIXES))
        + ". A worker (manage.py db_worker) runs the job; --wait follows it to the end."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--corpus", required=True, metavar="SLUG")
        parser.add_argument(
            "--wait", action="store_true", help="wait for the job, with a progress bar"
        )

    def handle(self, *args, paths, corpus, wait, **options):
        target = corpus_or_error(corpus)
        files = expand_paths(paths)
        if not files:
            raise CommandError(f"no {'/'.join(sorted(SUPPORTED_SUFFIXES))} files under {paths}")
        job = services.ingestion_job_create(corpus=target, paths=files)
        result = tasks.ingest.enqueue(job.pk)
        IngestionJob.objects.filter(pk=job.pk).update(task_result_id=str(result.id))
        self.stdout.write(f"Ingestion job #{job.pk}: {len(files)} file(s) into {target.slug}.")
        if not wait:
            self.stdout.write(f"Follow it in the admin: /admin/corpora/ingestionjob/{job.pk}/")
            return
        job = self.follow(job.pk)
        self.report(job)
        if job.status == JobStatus.FAILED:
            raise CommandError(f"ingestion job #{job.pk} failed")

    def follow(self, job_id: int) -> IngestionJob:
        started = time.monotonic()
        hinted = False
        # Off a terminal (CI logs, make demo piped), redraw rarely instead of every poll.
        redraw = 0.1 if self.stderr.isatty() else 15
        with tqdm(total=0, unit="chunk", file=self.stderr, mininterval=redraw) as bar:
            while True:
                job = IngestionJob.objects.get(pk=job_id)
                bar.total = max(job.progress_total, 1)
                bar.set_description(job.stage or job.status, refresh=False)
                bar.update(job.progress_done - bar.n)
                if job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
                    bar.refresh()
                    return job
                check_alive(job)
                queued_for = time.monotonic() - started if job.status == JobStatus.QUEUED else 0
                if not hinted and queued_for > NO_WORKER_HINT_SECONDS:
                    bar.write("Still queued. Is a worker running? Start one: manage.py db_worker")
                    hinted = True
                time.sleep(POLL_SECONDS)

    def report(self, job: IngestionJob) -> None:
        self.stdout.write(
            f"{job.get_status_display()}: {job.documents_created} new, "
            f"{job.documents_updated} new version(s), {job.documents_unchanged} unchanged; "
            f"{job.chunks_written} chunks written ({job.chunks_embedded} embedded, "
            f"{job.chunks_reused} reused)."
        )
        for error in job.errors:
            self.stderr.write(f"  error: {error}")


def check_alive(job: IngestionJob) -> None:
    if job.status == JobStatus.RUNNING and job.heartbeat_at:
        silent = (timezone.now() - job.heartbeat_at).total_seconds()
        # Workers fail such a job themselves; this is for when none is left to do it.
        if silent > services.ingestion_stale_after().total_seconds():
            raise CommandError(
                f"ingestion job #{job.pk} has reported nothing for {silent / 60:.0f} minutes; its "
                "worker has probably stopped. Run the same ingest again: unchanged documents "
                "are skipped."
            )


def corpus_or_error(slug: str) -> Corpus:
    try:
        return Corpus.objects.get(slug=slug)
    except Corpus.DoesNotExist:
        known = ", ".join(Corpus.objects.values_list("slug", flat=True)) or "none yet"
        raise CommandError(
            f"unknown corpus {slug!r} (known: {known}). "
            "Create it with: manage.py create_corpus SLUG --name NAME --domain DOMAIN"
        ) from None


def expand_paths(paths: list[str]) -> list[str]:
    # Folders contribute their supported files; a named file is passed on even when it is
    # missing or of an unsupported type, so the job reports it by name.
    files: list[str] = []
    for raw in paths:
        path = Path(raw).resolve()
        if path.is_dir():
            files.extend(
                str(p)
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
            )
        else:
            files.append(str(path))
    return files
