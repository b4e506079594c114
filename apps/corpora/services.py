from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from apps.audit.services import event_record
from apps.corpora.chunking import ChunkDraft
from apps.corpora.embedding import Embedder, EmbeddingModelError, get_embedder
from apps.corpora.models import Chunk, Corpus, Document, DocumentStatus, IngestionJob, JobStatus
from apps.corpora.parsers import ParsedDocument
from apps.corpora.signals import corpus_changed

if TYPE_CHECKING:
    import numpy as np

CHUNK_WRITE_BATCH = 500
# A running job's worker touches its heartbeat every tenth of this; this much silence means the
# worker process is gone (killed, out of memory, its host lost).
INGEST_STALE_SECONDS = 300


class IngestOutcome(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class IngestResult:
    outcome: IngestOutcome
    document: Document


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stored_fields(parsed: ParsedDocument) -> dict:
    """The Document field values that `parsed` is stored as."""
    fields = {
        "title": parsed.title,
        "citation_label": parsed.citation_label,
        "source": parsed.source,
        "doc_type": parsed.doc_type,
        "jurisdiction": parsed.jurisdiction,
    }
    # Stored as the columns hold them, so that an unchanged long title still compares equal.
    fields = {
        name: value[: Document._meta.get_field(name).max_length] for name, value in fields.items()
    }
    return fields | {
        "date": parsed.date,
        "metadata": parsed.metadata,
        "sha256": text_sha256(parsed.text),
    }


def is_unchanged(document: Document, parsed: ParsedDocument) -> bool:
    return all(getattr(document, name) == value for name, value in stored_fields(parsed).items())


@transaction.atomic
def corpus_create(
    *,
    slug: str,
    name: str,
    domain: str,
    description: str = "",
    jurisdiction: str = "",
    attribution: str = "",
) -> Corpus:
    """Create a corpus; it takes the configured embedding model on its first ingestion."""
    corpus = Corpus(
        slug=slug,
        name=name,
        domain=domain,
        description=description,
        jurisdiction=jurisdiction,
        attribution=attribution,
    )
    corpus.full_clean()
    corpus.save()
    event_record(action="corpus.created", obj=corpus, payload={"slug": slug, "domain": domain})
    return corpus


def fitting_embedder(model_name: str | None) -> Embedder:
    embedder = get_embedder(model_name)
    if embedder.dim != settings.EMBEDDING_DIM:
        raise EmbeddingModelError(
            f"model {embedder.name!r} gives {embedder.dim}-d vectors but the chunk table holds "
            f"{settings.EMBEDDING_DIM}-d ones (EMBEDDING_DIM)"
        )
    return embedder


def corpus_embedder(corpus: Corpus) -> Embedder:
    """The embedder a corpus is indexed with, recording the configured one on first use."""
    embedder = fitting_embedder(corpus.embedding_model or None)
    if not corpus.embedding_model:
        Corpus.objects.filter(pk=corpus.pk).update(
            embedding_model=embedder.name, embedding_dim=embedder.dim
        )
        corpus.embedding_model, corpus.embedding_dim = embedder.name, embedder.dim
    return embedder


@transaction.atomic
def document_ingest(
    *,
    corpus: Corpus,
    parsed: ParsedDocument,
    chunks: Sequence[ChunkDraft],
    embeddings: np.ndarray,
) -> IngestResult:
    """Store `parsed` as the active version of its document, with its chunks and embeddings.

    Unchanged content is a no-op. Changed content becomes a new version and supersedes the old
    one in the same transaction, so readers see the old version or the new one, never a mix.
    """
    current = (
        Document.objects.select_for_update()
        .filter(corpus=corpus, external_id=parsed.external_id, status=DocumentStatus.ACTIVE)
        .first()
    )
    if current and is_unchanged(current, parsed):
        return IngestResult(IngestOutcome.UNCHANGED, current)
    if current:
        current.status = DocumentStatus.SUPERSEDED
        current.superseded_at = timezone.now()
        current.save(update_fields=["status", "superseded_at"])
    document = Document.objects.create(
        corpus=corpus,
        external_id=parsed.external_id,
        version=next_version(corpus, parsed.external_id),
        text=parsed.text,
        **stored_fields(parsed),
    )
    Chunk.objects.bulk_create(
        [
            chunk_row(document, draft, vector)
            for draft, vector in zip(chunks, embeddings, strict=True)
        ],
        batch_size=CHUNK_WRITE_BATCH,
    )
    outcome = IngestOutcome.UPDATED if current else IngestOutcome.CREATED
    event_record(
        action="document.ingested",
        obj=document,
        payload={
            "corpus": corpus.slug,
            "external_id": document.external_id,
            "version": document.version,
            "sha256": document.sha256,
            "chunks": len(chunks),
            "supersedes": current.pk if current else None,
        },
    )
    return IngestResult(outcome, document)


def next_version(corpus: Corpus, external_id: str) -> int:
    latest = Document.objects.filter(corpus=corpus, external_id=external_id).aggregate(
        latest=Max("version")
    )["latest"]
    return (latest or 0) + 1


def chunk_row(document: Document, draft: ChunkDraft, vector) -> Chunk:
    return Chunk(
        document=document,
        corpus_id=document.corpus_id,
        ordinal=draft.ordinal,
        char_start=draft.char_start,
        char_end=draft.char_end,
        text=draft.text,
        heading_path=list(draft.heading_path),
        page_start=draft.page_start,
        page_end=draft.page_end,
        index_text=draft.index_text,
        token_count=draft.token_count,
        content_hash=draft.content_hash,
        embedding=vector,
    )


def reusable_embeddings(corpus: Corpus, content_hashes: Sequence[str]) -> dict[str, np.ndarray]:
    """Embeddings already stored for these content hashes in the corpus's current chunks."""
    rows = (
        Chunk.objects.filter(
            corpus=corpus,
            content_hash__in=set(content_hashes),
            document__status=DocumentStatus.ACTIVE,
            embedding__isnull=False,
        )
        .order_by()
        .values_list("content_hash", "embedding")
    )
    return dict(rows)


def corpus_reembed(
    *, corpus: Corpus, model_name: str, on_progress: Callable[[int], None] | None = None
) -> int:
    """Re-embed every current chunk of `corpus` with `model_name`; returns the chunk count.

    Vectors of superseded and retired versions are cleared: they are never retrieved, and a
    vector from another model must not be reused for a new chunk.
    """
    embedder = fitting_embedder(model_name)
    rows = list(
        Chunk.objects.filter(corpus=corpus, document__status=DocumentStatus.ACTIVE)
        .order_by("id")
        .values_list("id", "index_text")
    )
    ids = [chunk_id for chunk_id, _ in rows]
    texts = [index_text for _, index_text in rows]
    vectors = embedder.encode(texts, on_progress=on_progress)
    with transaction.atomic():
        Chunk.objects.bulk_update(
            [Chunk(id=i, embedding=v) for i, v in zip(ids, vectors, strict=True)],
            ["embedding"],
            batch_size=CHUNK_WRITE_BATCH,
        )
        Chunk.objects.filter(corpus=corpus).exclude(document__status=DocumentStatus.ACTIVE).update(
            embedding=None
        )
        Corpus.objects.filter(pk=corpus.pk).update(
            embedding_model=embedder.name, embedding_dim=embedder.dim
        )
    return len(ids)


@transaction.atomic
def ingestion_job_create(
    *, corpus: Corpus, paths: Sequence[str], requested_by=None
) -> IngestionJob:
    """Record an ingestion job for `paths`; the ingest task runs it."""
    return IngestionJob.objects.create(
        corpus=corpus, paths=[str(p) for p in paths], requested_by=requested_by
    )


def ingestion_stale_after() -> timedelta:
    """How long a running job may go without a heartbeat before it counts as abandoned."""
    return timedelta(seconds=getattr(settings, "INGEST_STALE_SECONDS", INGEST_STALE_SECONDS))


def ingestion_jobs_reap() -> list[IngestionJob]:
    """Mark failed, with the reason, every running job whose heartbeat is older than
    `ingestion_stale_after()`; returns them.

    Each document a job wrote is committed whole, so those stay; a corpus that got any of them
    is announced with `corpus_changed`, so that derived indexes are rebuilt from what was
    committed.
    """
    now = timezone.now()
    cutoff = now - ingestion_stale_after()
    stale = IngestionJob.objects.filter(status=JobStatus.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    return [
        job for job in stale.select_related("corpus") if ingestion_job_abandon(job=job, now=now)
    ]


@transaction.atomic
def ingestion_job_abandon(*, job: IngestionJob, now) -> bool:
    last = job.heartbeat_at or job.started_at
    reason = (
        f"the worker stopped: no heartbeat since {last.isoformat(timespec='seconds')} "
        f"(limit {ingestion_stale_after().total_seconds():.0f} s); documents written before "
        "then are kept, and running the same ingest again adds the rest"
    )
    # Only if it is still silent: its worker may have come back since it was read.
    claimed = IngestionJob.objects.filter(
        pk=job.pk, status=JobStatus.RUNNING, heartbeat_at=job.heartbeat_at
    ).update(status=JobStatus.FAILED, stage="failed", finished_at=now, errors=[*job.errors, reason])
    if not claimed:
        return False
    job.refresh_from_db()
    written = Document.objects.filter(corpus=job.corpus, created_at__gte=job.started_at or now)
    if written.exists():
        corpus_changed.send(sender=IngestionJob, corpus=job.corpus)
    return True
