"""Upgrading moves embeddings that TOAST had put out of line back into their rows."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection

from tests.migrations import migrate

# Texts that do not compress, shorter than a vector but too long for a row that also holds it:
# the vector, the longest value, was the one put out of line.
UNCOMPRESSIBLE = np.random.default_rng(1).bytes(300).hex()


OUT_OF_LINE_EMBEDDINGS = (
    "SELECT count(*) FROM corpora_chunk WHERE pg_column_toast_chunk_id(embedding) IS NOT NULL"
)
EMBEDDING_STORAGE = (
    "SELECT attstorage FROM pg_attribute "
    "WHERE attrelid = 'corpora_chunk'::regclass AND attname = 'embedding'"
)


def scalar(sql: str):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_embeddings_move_into_their_rows_and_stay_there():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(3, 384)).astype(np.float32)
    try:
        old = migrate("corpora", "0001_initial")
        corpus = old.get_model("corpora", "Corpus").objects.create(slug="old", name="Old")
        document = old.get_model("corpora", "Document").objects.create(
            corpus=corpus, external_id="a", title="A", citation_label="A", text="x", sha256="-"
        )
        for ordinal, vector in enumerate(vectors):
            old.get_model("corpora", "Chunk").objects.create(
                document=document,
                corpus=corpus,
                ordinal=ordinal,
                char_start=0,
                char_end=1,
                text=UNCOMPRESSIBLE,
                index_text=UNCOMPRESSIBLE,
                token_count=1,
                content_hash=str(ordinal),
                embedding=vector,
            )
        assert scalar(EMBEDDING_STORAGE) == "e" and scalar(OUT_OF_LINE_EMBEDDINGS) == 3

        new = migrate("corpora")

        assert scalar(EMBEDDING_STORAGE) == "m" and scalar(OUT_OF_LINE_EMBEDDINGS) == 0
        stored = new.get_model("corpora", "Chunk").objects.order_by("ordinal")
        np.testing.assert_allclose([chunk.embedding for chunk in stored], vectors, rtol=1e-6)
    finally:
        migrate("corpora")
