from __future__ import annotations

import numpy as np
import pytest
from django.db import IntegrityError, connection, transaction

from apps.corpora.models import Chunk, Document


@pytest.fixture
def many_chunks(corpus):
    document = Document.objects.create(
        corpus=corpus, external_id="x", title="X", citation_label="X", text="x" * 10, sha256="0"
    )
    vectors = np.random.default_rng(7).normal(size=(20, 384)).astype(np.float32)
    Chunk.objects.bulk_create(
        Chunk(
            document=document,
            corpus=corpus,
            ordinal=i,
            char_start=0,
            char_end=1,
            text="x",
            index_text="x",
            token_count=3,
            content_hash=str(i),
            embedding=vector,
        )
        for i, vector in enumerate(vectors)
    )
    return vectors


def test_the_vector_extension_is_installed_by_migration(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        (version,) = cursor.fetchone()
    assert tuple(map(int, version.split(".")[:2])) >= (0, 8)


def test_chunk_ordinals_are_unique_per_document(many_chunks):
    chunk = Chunk.objects.first()
    chunk.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        chunk.save()


def test_a_chunk_range_may_not_be_empty(many_chunks):
    with pytest.raises(IntegrityError), transaction.atomic():
        Chunk.objects.filter(ordinal=0).update(char_end=0)
