"""The ingestion job: parse every file, chunk what changed, embed in batches, write atomically."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

from apps.corpora import services
from apps.corpora.chunking import ChunkDraft, chunk_document
from apps.corpora.embedding import Embedder
from apps.corpora.models import Document, DocumentStatus, IngestionJob, JobStatus
from apps.corpora.parsers import ParsedDocument, parse_path
from apps.corpora.signals import corpus_changed

logger = logging.getLogger(__name__)

# Documents are embedded together in groups of about this many chunks: big enough for the
# encoder to batch well, small enough that progress and writes keep flowing.
EMBED_GROUP_CHUNKS = 2048
PROGRESS_WRITE_SECONDS = 1.0

ProgressCallback = Callable[[int, int, str], None]


@dataclass
class PendingDocument:
    parsed: ParsedDocument
    chunks: list[ChunkDraft]


class JobProgress:
    """Counts work done, telling the caller at once and the job row at most once a second."""

    def __init__(self, job: IngestionJob, callback: ProgressCallback | None) -> None:
        self.job = job
        self.callback = callback
        self.last_write = 0.0

    def stage(self, text: str) -> None:
        self.job.stage = text[:200]
        self.report(force=True)

    def total(self, total: int) -> None:
        self.job.progress_total = total
        self.report(force=True)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            spent = self.job.seconds_by_stage.get(stage, 0.0) + time.perf_counter() - started
            self.job.seconds_by_stage[stage] = round(spent, 3)

    def advance(self, done: int) -> None:
        self.job.progress_done += done
        self.report()

    def report(self, force: bool = False) -> None:
        if self.callback:
            self.callback(self.job.progress_done, self.job.progress_total, self.job.stage)
        now = time.monotonic()
        if force or now - self.last_write >= PROGRESS_WRITE_SECONDS:
            self.last_write = now
            self.job.heartbeat_at = timezone.now()
            IngestionJob.objects.filter(pk=self.job.pk).update(
                heartbeat_at=self.job.heartbeat_at,
                stage=self.job.stage,
                progress_done=self.job.progress_done,
                progress_total=self.job.progress_total,
            )


def run_ingestion_job(job_id: int, on_progress: ProgressCallback | None = None) -> IngestionJob:
    """Run an ingestion job to the end, recording progress, counts and per-file errors on it."""
    job = IngestionJob.objects.select_related("corpus").get(pk=job_id)
    job.status, job.started_at = JobStatus.RUNNING, timezone.now()
    job.heartbeat_at = job.started_at
    job.save(update_fields=["status", "started_at", "heartbeat_at"])
    progress = JobProgress(job, on_progress)
    try:
        with heartbeat(job.pk):
            run_stages(job, progress)
    except Exception as exc:
        logger.exception("ingestion job %s failed", job.pk)
        finish(job, JobStatus.FAILED, f"ingestion stopped: {type(exc).__name__}: {exc}")
        raise
    else:
        finish(job, JobStatus.PARTIAL if job.errors else JobStatus.SUCCEEDED)
    finally:
        # Documents written before a failure are current too; derived indexes must follow.
        if job.documents_created or job.documents_updated:
            corpus_changed.send(sender=IngestionJob, corpus=job.corpus)
    return job


def run_stages(job: IngestionJob, progress: JobProgress) -> None:
    embedder = services.corpus_embedder(job.corpus)
    pending = prepare_documents(job, embedder, progress)
    progress.total(sum(len(p.chunks) for p in pending))
    for group in embedding_groups(pending):
        vectors = embed_group(job, embedder, group, progress)
        with progress.timed("write"):
            write_group(job, group, vectors)


@contextmanager
def heartbeat(job_id: int) -> Iterator[None]:
    """Touch the job's heartbeat from a thread of its own while the block runs, so that one long
    step (a large PDF, a slow write) never looks like a dead worker, and a killed one does."""
    every = services.ingestion_stale_after().total_seconds() / 10
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                try:
                    IngestionJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError:
                    logger.warning("ingestion job %s: heartbeat not written", job_id, exc_info=True)
        finally:
            connections.close_all()

    thread = threading.Thread(target=beat, name=f"ingestion-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def finish(job: IngestionJob, status: str, error: str | None = None) -> None:
    if error:
        job.errors.append(error)
    job.status, job.finished_at = status, timezone.now()
    job.stage = "done" if status != JobStatus.FAILED else "failed"
    job.save()


def prepare_documents(
    job: IngestionJob, embedder: Embedder, progress: JobProgress
) -> list[PendingDocument]:
    pending: list[PendingDocument] = []
    chunking = job.corpus.chunking_settings()
    for path in job.paths:
        progress.stage(f"parsing {Path(path).name}")
        with progress.timed("parse"):
            result = parse_path(Path(path), max_bytes=settings.INGEST_MAX_BYTES)
        job.errors.extend(str(problem) for problem in result.problems)
        changed = changed_documents(job, result.documents)
        progress.stage(f"chunking {Path(path).name}")
        for parsed in changed:
            try:
                with progress.timed("chunk"):
                    chunks = chunk_document(
                        parsed.text,
                        title=parsed.title,
                        tokenizer=embedder.tokenizer,
                        settings=chunking,
                    )
            except Exception as exc:
                # One document the chunker cannot handle must not keep the others out.
                logger.exception("chunking %s failed", parsed.external_id)
                job.errors.append(f"{parsed.source}: {parsed.external_id}: not chunked ({exc})")
                continue
            pending.append(PendingDocument(parsed, chunks))
    return pending


def changed_documents(job: IngestionJob, documents: list[ParsedDocument]) -> list[ParsedDocument]:
    current = {
        doc.external_id: doc
        for doc in Document.objects.filter(
            corpus=job.corpus,
            status=DocumentStatus.ACTIVE,
            external_id__in=[d.external_id for d in documents],
        ).defer("text")
    }
    changed = []
    for parsed in documents:
        stored = current.get(parsed.external_id)
        if stored and services.is_unchanged(stored, parsed):
            job.documents_unchanged += 1
        else:
            changed.append(parsed)
    return changed


def embedding_groups(pending: list[PendingDocument]) -> Iterator[list[PendingDocument]]:
    group: list[PendingDocument] = []
    size = 0
    for item in pending:
        group.append(item)
        size += len(item.chunks)
        if size >= EMBED_GROUP_CHUNKS:
            yield group
            group, size = [], 0
    if group:
        yield group


def embed_group(
    job: IngestionJob, embedder: Embedder, group: list[PendingDocument], progress: JobProgress
) -> np.ndarray:
    progress.stage(f"embedding {group[0].parsed.external_id} and {len(group) - 1} more")
    chunks = [chunk for item in group for chunk in item.chunks]
    known = services.reusable_embeddings(job.corpus, [c.content_hash for c in chunks])
    missing = [i for i, c in enumerate(chunks) if c.content_hash not in known]
    vectors = np.empty((len(chunks), embedder.dim), dtype=np.float32)
    for i, chunk in enumerate(chunks):
        if chunk.content_hash in known:
            vectors[i] = known[chunk.content_hash]
    job.chunks_reused += len(chunks) - len(missing)
    progress.advance(len(chunks) - len(missing))
    if missing:
        with progress.timed("embed"):
            vectors[missing] = embedder.encode(
                [chunks[i].index_text for i in missing], on_progress=progress.advance
            )
    job.chunks_embedded += len(missing)
    return vectors


def write_group(job: IngestionJob, group: list[PendingDocument], vectors: np.ndarray) -> None:
    offset = 0
    for item in group:
        count = len(item.chunks)
        result = services.document_ingest(
            corpus=job.corpus,
            parsed=item.parsed,
            chunks=item.chunks,
            embeddings=vectors[offset : offset + count],
        )
        offset += count
        counter = {
            services.IngestOutcome.CREATED: "documents_created",
            services.IngestOutcome.UPDATED: "documents_updated",
            services.IngestOutcome.UNCHANGED: "documents_unchanged",
        }[result.outcome]
        setattr(job, counter, getattr(job, counter) + 1)
        if result.outcome is not services.IngestOutcome.UNCHANGED:
            job.chunks_written += count
    IngestionJob.objects.filter(pk=job.pk).update(
        documents_created=job.documents_created,
        documents_updated=job.documents_updated,
        documents_unchanged=job.documents_unchanged,
        chunks_written=job.chunks_written,
        chunks_embedded=job.chunks_embedded,
        chunks_reused=job.chunks_reused,
        errors=job.errors,
        seconds_by_stage=job.seconds_by_stage,
    )
