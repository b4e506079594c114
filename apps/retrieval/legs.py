"""The two retrieval legs. Each takes the readable corpus ids and filters into its own query."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
from django.db.models import Max
from pgvector.django import CosineDistance

from apps.corpora.models import Chunk, DocumentStatus
from apps.retrieval.bm25 import Bm25Index
from apps.retrieval.filters import Filters
from apps.retrieval.models import Bm25Index as Bm25IndexRow
from apps.retrieval.models import Bm25IndexStatus
from apps.retrieval.tokenize import analyse

Ranking = list[tuple[int, float]]

_loaded: dict[int, tuple[int, Bm25Index]] = {}
_loading = threading.Lock()


def current_chunks(corpus_ids: Sequence[int], filters: Filters):
    return Chunk.objects.filter(
        filters.q(), corpus_id__in=corpus_ids, document__status=DocumentStatus.ACTIVE
    )


def vector_leg(vector: np.ndarray, corpus_ids: Sequence[int], filters: Filters, k: int) -> Ranking:
    """Nearest chunks by cosine similarity, in one query that applies access and filters."""
    rows = (
        current_chunks(corpus_ids, filters)
        .annotate(distance=CosineDistance("embedding", vector))
        .order_by("distance")
        .values_list("id", "distance")[:k]
    )
    return [(chunk_id, 1.0 - distance) for chunk_id, distance in rows]


def bm25_leg(query: str, corpus_ids: Sequence[int], filters: Filters, k: int) -> Ranking:
    """Best BM25 chunks over the readable corpora's current indexes."""
    terms = analyse(query)
    indexes = current_indexes(corpus_ids)
    if not terms or not indexes:
        return []
    allowed = (
        None
        if filters.is_empty
        else set(current_chunks(corpus_ids, filters).values_list("id", flat=True))
    )
    hits = [hit for index in indexes for hit in index.search(terms, k, allowed)]
    return sorted(hits, key=lambda hit: (-hit[1], hit[0]))[:k]


def current_indexes(corpus_ids: Sequence[int]) -> list[Bm25Index]:
    """The newest ready BM25 generation of each corpus, loaded once per process."""
    newest = dict(
        Bm25IndexRow.objects.filter(corpus_id__in=corpus_ids, status=Bm25IndexStatus.READY)
        .values("corpus_id")
        .annotate(generation=Max("generation"))
        .values_list("corpus_id", "generation")
    )
    stale = [c for c, g in newest.items() if _loaded.get(c, (None,))[0] != g]
    if stale:
        with _loading:
            for row in Bm25IndexRow.objects.filter(
                corpus_id__in=stale, generation__in=[newest[c] for c in stale]
            ).only("corpus_id", "generation", "payload"):
                if newest[row.corpus_id] == row.generation:
                    _loaded[row.corpus_id] = (row.generation, Bm25Index.from_bytes(row.payload))
    return [_loaded[c][1] for c in newest if c in _loaded]
