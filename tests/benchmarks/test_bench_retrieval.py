from __future__ import annotations

import pytest

from apps.corpora import services
from apps.corpora.models import Corpus
from bench import retrieval
from tests.corpora.conftest import RULES_V1, ingest


# The benchmark queries from several threads, each with its own connection: the data must be
# committed for them to see it.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_retrieval_benchmark_runs_in_short_form(tmp_path):
    corpus = services.corpus_create(slug="alpha", name="Alpha", domain="regulatory")
    (tmp_path / "rules.md").write_text(RULES_V1)
    ingest(corpus, tmp_path / "rules.md")

    tables = retrieval.main(
        [
            "--sizes",
            "300",
            "--queries",
            "6",
            "--baseline-queries",
            "3",
            "--source",
            "alpha",
            "--questions",
            str(tmp_path / "none.jsonl"),
        ]
    )

    assert "Retrieval benchmark at 300 chunks (6 queries" in tables
    for row in (
        "vector leg c=4 p50 / p95 ms",
        "retrieve() c=1 p50 / p95 ms",
        "BM25 search speed-up over rank-bm25",
        "BM25 index build (s)",
    ):
        assert row in tables
    assert list(Corpus.objects.values_list("slug", flat=True)) == ["alpha"]
