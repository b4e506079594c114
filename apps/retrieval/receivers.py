from __future__ import annotations

from django.db.backends.signals import connection_created
from django.dispatch import receiver

from apps.corpora.signals import corpus_changed
from apps.retrieval import tasks

HNSW_EF_SEARCH = 64


@receiver(corpus_changed)
def rebuild_bm25_index(sender, corpus, **kwargs) -> None:
    tasks.build_bm25_index.enqueue(corpus.pk)


@receiver(connection_created)
def configure_vector_search(sender, connection, **kwargs) -> None:
    # Iterative index scans keep a filtered HNSW query going until it has its k rows (pgvector
    # 0.8), so a corpus holding 1% of the chunks still gets k hits.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SET hnsw.iterative_scan = strict_order; SET hnsw.ef_search = {HNSW_EF_SEARCH}"
            )
