from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.roles import as_owner
from apps.corpora import services
from apps.corpora.models import Chunk, Corpus, Document
from apps.retrieval.filters import Filters
from apps.retrieval.legs import vector_leg
from tests.retrieval.conftest import nearest

CHUNKS = 10_000
SMALL_SHARE = 0.01
DIM = 384
K = 10


@dataclass(frozen=True)
class Synthetic:
    big: Corpus
    small: Corpus
    chunk_ids: np.ndarray
    vectors: np.ndarray
    in_small: np.ndarray

    def exact_nearest_in_small(self, query: np.ndarray) -> set[int]:
        ids, vectors = self.chunk_ids[self.in_small], self.vectors[self.in_small]
        return {int(i) for i in ids[np.argsort(-(vectors @ query))[:K]]}


def unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.normal(size=(count, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def one_document(corpus: Corpus) -> Document:
    return Document.objects.create(
        corpus=corpus, external_id="synthetic", title="S", citation_label="S", text="x" * 10
    )


def synthetic_chunks(rng: np.random.Generator) -> Synthetic:
    big = services.corpus_create(slug="big", name="Big", domain="legal")
    small = services.corpus_create(slug="small", name="Small", domain="legal")
    documents = {big.pk: one_document(big), small.pk: one_document(small)}
    vectors = unit_vectors(rng, CHUNKS)
    in_small = rng.permutation(CHUNKS) < CHUNKS * SMALL_SHARE
    corpus_ids = [small.pk if flag else big.pk for flag in in_small]
    chunks = Chunk.objects.bulk_create(
        (
            Chunk(
                document=documents[corpus_id],
                corpus_id=corpus_id,
                ordinal=i,
                char_start=0,
                char_end=1,
                text="x",
                index_text="x",
                token_count=1,
                content_hash=str(i),
                embedding=vector,
            )
            for i, (vector, corpus_id) in enumerate(zip(vectors, corpus_ids, strict=True))
        ),
        batch_size=2000,
    )
    # Only the owner of the table may analyse it; the tests connect as the application role.
    with as_owner() as owner, owner.cursor() as cursor:
        cursor.execute("ANALYZE corpora_chunk")
    return Synthetic(big, small, np.array([c.pk for c in chunks]), vectors, in_small)


@pytest.fixture(scope="module")
def synthetic(django_db_setup, django_db_blocker):
    # Ten thousand rows through the HNSW index take seconds, so the module shares one
    # committed set and removes it afterwards.
    with django_db_blocker.unblock():
        data = synthetic_chunks(np.random.default_rng(20240501))
        yield data
        Corpus.objects.filter(pk__in=[data.big.pk, data.small.pk]).delete()


def test_a_one_percent_corpus_gets_its_true_nearest_chunks(db, synthetic):
    recalls = []
    for query in unit_vectors(np.random.default_rng(1), 20):
        (ranking,) = vector_leg([query], [synthetic.small.pk], Filters(), K)
        found = {chunk_id for chunk_id, _ in ranking}

        assert len(found) == K
        recalls.append(len(found & synthetic.exact_nearest_in_small(query)) / K)
    assert np.mean(recalls) >= 0.95, recalls


def test_the_hnsw_path_still_fills_k_for_a_one_percent_corpus(db, synthetic):
    # The planner may read a small corpus exactly through its corpus_id index; forcing the
    # HNSW scan shows that the iterative scan keeps going until it has k rows of the corpus.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    small_ids = set(synthetic.chunk_ids[synthetic.in_small].tolist())
    for query in unit_vectors(np.random.default_rng(2), 5):
        with CaptureQueriesContext(connection) as captured:
            (hits,) = vector_leg([query], [synthetic.small.pk], Filters(), K)

        assert len(hits) == K and {chunk_id for chunk_id, _ in hits} <= small_ids
        assert "Index Scan using chunk_embedding_hnsw" in explain(captured)


def test_the_unfiltered_vector_leg_scans_the_hnsw_index(db, synthetic):
    corpus_ids = [synthetic.big.pk, synthetic.small.pk]
    with CaptureQueriesContext(connection) as captured:
        vector_leg(synthetic.vectors[:1], corpus_ids, Filters(), K)

    plan = explain(captured)
    assert "Index Scan using chunk_embedding_hnsw" in plan, plan


@pytest.mark.parametrize("corpora", [("small",), ("big", "small")])
def test_one_statement_ranks_each_vector_as_a_query_of_its_own(db, synthetic, corpora):
    corpus_ids = [getattr(synthetic, name).pk for name in corpora]
    queries = unit_vectors(np.random.default_rng(3), 4)
    with CaptureQueriesContext(connection) as captured:
        rankings = vector_leg(queries, corpus_ids, Filters(), K)

    assert len(captured) == 1
    assert rankings == [nearest(query, corpus_ids, Filters(), K) for query in queries]


def test_every_vector_of_the_statement_scans_the_hnsw_index(db, synthetic):
    corpus_ids = [synthetic.big.pk, synthetic.small.pk]
    with CaptureQueriesContext(connection) as captured:
        vector_leg(synthetic.vectors[:3], corpus_ids, Filters(), K)

    assert explain(captured).count("Index Scan using chunk_embedding_hnsw") == 3


def explain(captured: CaptureQueriesContext) -> str:
    (query,) = [q["sql"] for q in captured.captured_queries if "<=>" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {query}")
        return "\n".join(row[0] for row in cursor.fetchall())
