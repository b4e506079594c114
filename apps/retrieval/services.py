from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.audit.services import event_record
from apps.corpora.models import Chunk, Corpus, DocumentStatus
from apps.retrieval.bm25 import Bm25Index
from apps.retrieval.models import Bm25Index as Bm25IndexRow
from apps.retrieval.models import Bm25IndexPart, Bm25IndexStatus

GENERATIONS_KEPT = 2
PART_BYTES = 64 * 2**20


def bm25_index_build(*, corpus: Corpus) -> Bm25IndexRow:
    """Build the next BM25 generation of `corpus` from its current chunks and make it current.

    The build runs outside any transaction; the new generation becomes visible to readers in
    one step when it is marked ready, and a failed build leaves the previous one in use.
    """
    row = bm25_generation_allocate(corpus=corpus)
    started = time.perf_counter()
    try:
        rows = (
            Chunk.objects.filter(corpus=corpus, document__status=DocumentStatus.ACTIVE)
            .order_by("id")
            .values_list("id", "index_text")
        )
        chunk_ids, texts = zip(*rows, strict=True) if rows else ((), ())
        payload = Bm25Index.build(chunk_ids, texts).to_bytes()
    except Exception as exc:
        Bm25IndexRow.objects.filter(pk=row.pk).update(
            status=Bm25IndexStatus.FAILED, error=f"{type(exc).__name__}: {exc}"
        )
        raise
    return bm25_generation_publish(
        row=row, payload=payload, chunk_count=len(chunk_ids), seconds=time.perf_counter() - started
    )


@transaction.atomic
def bm25_generation_allocate(*, corpus: Corpus) -> Bm25IndexRow:
    # Lock the corpus row so that concurrent builds take distinct generation numbers.
    Corpus.objects.select_for_update().get(pk=corpus.pk)
    latest = corpus.bm25_indexes.aggregate(latest=Max("generation"))["latest"] or 0
    return Bm25IndexRow.objects.create(corpus=corpus, generation=latest + 1)


@transaction.atomic
def bm25_generation_publish(
    *, row: Bm25IndexRow, payload: bytes, chunk_count: int, seconds: float
) -> Bm25IndexRow:
    # One statement per part, so that no message to the server comes near its 1 GB limit.
    for ordinal, start in enumerate(range(0, len(payload), PART_BYTES)):
        Bm25IndexPart.objects.create(
            index=row, ordinal=ordinal, payload=payload[start : start + PART_BYTES]
        )
    row.size_bytes, row.chunk_count = len(payload), chunk_count
    row.build_seconds = round(seconds, 3)
    row.status, row.ready_at = Bm25IndexStatus.READY, timezone.now()
    row.save()
    stale = Bm25IndexRow.objects.filter(
        corpus_id=row.corpus_id, status=Bm25IndexStatus.READY
    ).order_by("-generation")[GENERATIONS_KEPT:]
    Bm25IndexRow.objects.filter(pk__in=[r.pk for r in stale]).delete()
    return row


def search_record(*, user, query: str, corpora: Sequence[Corpus], hits: Sequence) -> None:
    """Record a search in the audit trail: the query's hash, never its text, the corpora
    searched and the chunks found."""
    event_record(
        action="search.run",
        durable=False,
        actor=user,
        payload={
            "query_sha256": hashlib.sha256(query.encode("utf-8")).hexdigest(),
            "corpora": [corpus.slug for corpus in corpora],
            "chunks": [hit.chunk_id for hit in hits],
        },
    )
