from __future__ import annotations

from django_tasks import task

from apps.corpora.models import Corpus
from apps.retrieval import services


@task()
def build_bm25_index(corpus_id: int) -> dict:
    """Rebuild a corpus's BM25 index from its current chunks."""
    row = services.bm25_index_build(corpus=Corpus.objects.get(pk=corpus_id))
    return {"corpus": corpus_id, "generation": row.generation, "chunks": row.chunk_count}
