from __future__ import annotations

from django_tasks import task

from apps.corpora.models import Corpus
from apps.retrieval import services


@task()
def build_bm25_index(corpus_id: int) -> dict:
    """Rebuild a corpus's BM25 index from its current chunks."""
    corpus = Corpus.objects.filter(pk=corpus_id).first()
    if corpus is None:
        return {"corpus": corpus_id, "skipped": "the corpus no longer exists"}
    row = services.bm25_index_build(corpus=corpus)
    return {"corpus": corpus_id, "generation": row.generation, "chunks": row.chunk_count}
