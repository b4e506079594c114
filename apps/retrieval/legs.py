"""The two retrieval legs. Each takes the readable corpus ids and filters into its own query."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from django.db import connection
from pgvector import Vector

from apps.corpora.models import DocumentStatus
from apps.retrieval.bm25 import Bm25Index
from apps.retrieval.filters import Filters
from apps.retrieval.models import Bm25Index as Bm25IndexRow
from apps.retrieval.models import Bm25IndexStatus
from apps.retrieval.tokenize import index_terms

Ranking = list[tuple[int, float]]

_loaded: dict[int, tuple[int, Bm25Index]] = {}
_loading = threading.Lock()


# A search's statements on chunks (these and search.hydrate's) are SQL: through the ORM,
# building them cost more CPU than PostgreSQL took to run them. Python's CPU through the ORM
# and as SQL, and PostgreSQL's: the vector leg 1.3 and 0.45 ms (PostgreSQL 1.2 ms), reading
# back ten hits 0.9 and 0.2 ms (0.3 ms), the current BM25 generations 0.8 and 0.12 ms (0.2 ms).
CHUNKS = "FROM corpora_chunk c JOIN corpora_document d ON d.id = c.document_id"


def current_chunks(corpus_ids: Sequence[int], filters: Filters) -> tuple[str, list]:
    """The FROM and WHERE clauses of the chunks `c` of `corpus_ids` whose documents `d` are
    current and pass `filters`, and their parameters."""
    conditions, params = filters.sql()
    return (
        f"{CHUNKS} WHERE c.corpus_id = ANY(%s::bigint[]) AND d.status = %s{conditions}",
        [list(corpus_ids), DocumentStatus.ACTIVE.value, *params],
    )


def fetch(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def vector_leg(
    vectors: np.ndarray, corpus_ids: Sequence[int], filters: Filters, k: int
) -> list[Ranking]:
    """Nearest chunks by cosine similarity for each query vector, best first: one ranking per
    vector, all from one statement whose per-vector branches apply access and filters."""
    source, source_params = current_chunks(corpus_ids, filters)
    branch = (
        f"(SELECT %s, c.id, c.embedding <=> %s::vector AS distance {source} "
        "ORDER BY distance LIMIT %s)"
    )
    params = [
        param
        for number, vector in enumerate(vectors)
        for param in (number, Vector(vector).to_text(), *source_params, k)
    ]
    rankings: list[Ranking] = [[] for _ in vectors]
    for number, chunk_id, distance in fetch(" UNION ALL ".join([branch] * len(vectors)), params):
        rankings[number].append((chunk_id, 1.0 - distance))
    # SQL does not promise that UNION ALL keeps each branch's order; a stable sort restores it
    # without reordering ties.
    for ranking in rankings:
        ranking.sort(key=lambda hit: -hit[1])
    return rankings


@dataclass(frozen=True)
class Bm25Leg:
    """The readable corpora's current BM25 indexes and the chunk ids the filters allow (None:
    all). Ranking needs no database, so it can run on another thread."""

    indexes: dict[int, Bm25Index]  # by corpus id
    allowed: set[int] | None

    @classmethod
    def load(cls, corpus_ids: Sequence[int], filters: Filters) -> Bm25Leg:
        indexes = current_indexes(corpus_ids)
        if not indexes or filters.is_empty:
            return cls(indexes, None)
        source, params = current_chunks(corpus_ids, filters)
        return cls(indexes, {chunk_id for (chunk_id,) in fetch(f"SELECT c.id {source}", params)})

    def corpora_of(self, chunk_ids: Iterable[int]) -> dict[int, int]:
        """The corpus id of each of these chunks that an index holds: a chunk never moves to
        another corpus, so an index of any generation tells."""
        return {
            chunk_id: corpus_id
            for chunk_id in chunk_ids
            for corpus_id, index in self.indexes.items()
            if chunk_id in index.position
        }

    def rank(self, queries: Sequence[str], k: int) -> list[Ranking]:
        """Best BM25 chunks for each query, best first: one ranking per query."""
        return [self.best(index_terms(query), k) for query in queries]

    def best(self, terms: list[str], k: int) -> Ranking:
        if not terms:
            return []
        hits = [
            hit for index in self.indexes.values() for hit in index.search(terms, k, self.allowed)
        ]
        return sorted(hits, key=lambda hit: (-hit[1], hit[0]))[:k]


def current_indexes(corpus_ids: Sequence[int]) -> dict[int, Bm25Index]:
    """The newest ready BM25 generation of each corpus, by corpus id, loaded once per process."""
    newest = dict(
        fetch(
            "SELECT corpus_id, max(generation) FROM retrieval_bm25index "
            "WHERE corpus_id = ANY(%s::bigint[]) AND status = %s GROUP BY corpus_id",
            [list(corpus_ids), Bm25IndexStatus.READY.value],
        )
    )
    stale = [c for c, g in newest.items() if _loaded.get(c, (None,))[0] != g]
    if stale:
        with _loading:
            for row in Bm25IndexRow.objects.filter(
                corpus_id__in=stale, generation__in=[newest[c] for c in stale]
            ).only("corpus_id", "generation"):
                if newest[row.corpus_id] == row.generation:
                    _loaded[row.corpus_id] = (row.generation, read_index(row))
    return {c: _loaded[c][1] for c in newest if c in _loaded}


def read_index(row: Bm25IndexRow) -> Bm25Index:
    parts = row.parts.order_by("ordinal").values_list("payload", flat=True).iterator()
    return Bm25Index.from_bytes(b"".join(bytes(part) for part in parts))
