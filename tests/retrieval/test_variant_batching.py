"""retrieve() ranks every query variant in one statement per leg; the results must be those of
ranking each variant on its own, and the number of queries must not grow with the variants."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.selectors import readable_corpora
from apps.corpora.embedding import get_embedder
from apps.retrieval.filters import Filters
from apps.retrieval.legs import current_indexes
from apps.retrieval.rewrite import MAX_VARIANTS, QueryVariant, embedding_variants
from apps.retrieval.search import (
    Hit,
    RetrievalOptions,
    best_leg_scores,
    fuse,
    fusion_plan,
    query_variants,
    retrieve,
)
from apps.retrieval.tokenize import index_terms
from tests.corpora.conftest import ingest
from tests.retrieval.conftest import nearest, readable_chunks

EXTRA_VARIANTS = (
    "beneficial owner of a legal person",
    "how long are customer records kept",
    "family members of a PEP",
    "xylophone",
)


@dataclass(frozen=True)
class FixedVariants:
    texts: tuple[str, ...]

    def variants(self, query: str, domains: frozenset[str]) -> list[QueryVariant]:
        return [QueryVariant(text, "model") for text in self.texts]


def best_bm25(text, corpus_ids, filters, k):
    terms = index_terms(text)
    indexes = current_indexes(corpus_ids).values()
    if not terms or not indexes:
        return []
    allowed = None
    if not filters.is_empty:
        allowed = set(readable_chunks(corpus_ids, filters).values_list("id", flat=True))
    hits = [hit for index in indexes for hit in index.search(terms, k, allowed)]
    return sorted(hits, key=lambda hit: (-hit[1], hit[0]))[:k]


def retrieve_variant_by_variant(query, corpora, filters, k, options):
    """retrieve() the straightforward way: a query per variant and leg, and one per hit."""
    corpus_ids = [c.pk for c in corpora]
    variants = query_variants(query, corpora, options)
    texts = [v.text for v in variants]
    depth = options.candidates_per_leg
    rankings = {}
    for leg in options.legs:
        if leg == "vector":
            vectors = get_embedder().encode([v.text for v in embedding_variants(variants)])
            rankings[leg] = [nearest(v, corpus_ids, filters, depth) for v in vectors]
        else:
            rankings[leg] = [best_bm25(text, corpus_ids, filters, depth) for text in texts]
    legs = best_leg_scores(rankings)
    chunks = readable_chunks(corpus_ids, filters).select_related("document", "corpus")
    hits = []
    for chunk_id, score in fuse(rankings, fusion_plan(options, corpora).single):
        chunk = chunks.filter(pk=chunk_id).first()
        if chunk and len(hits) < k:
            hits.append(hit(chunk, legs[chunk_id], score, len(hits) + 1))
    return hits


def hit(chunk, legs, score, rank):
    document = chunk.document
    return Hit(
        chunk_id=chunk.pk,
        corpus=chunk.corpus.slug,
        document_id=document.pk,
        document_external_id=document.external_id,
        document_version=document.version,
        citation_label=document.citation_label,
        document_title=document.title,
        heading_path=tuple(chunk.heading_path),
        text=chunk.text,
        char_start=chunk.char_start,
        char_end=chunk.char_end,
        page_start=chunk.page_start,
        page_end=chunk.page_end,
        content_hash=chunk.content_hash,
        legs=legs,
        fused_score=score,
        fused_rank=rank,
    )


@pytest.mark.parametrize(
    ("query", "filters", "options"),
    [
        ("how long must CDD records be kept", Filters(), RetrievalOptions()),
        (
            "PEP family members",
            Filters(),
            RetrievalOptions(variant_providers=(FixedVariants(EXTRA_VARIANTS),)),
        ),
        (
            "due diligence",
            Filters(),
            RetrievalOptions(
                fusion="weighted",
                legs=("bm25", "vector"),
                variant_providers=(FixedVariants(EXTRA_VARIANTS),),
            ),
        ),
        (
            "customer due diligence",
            Filters(documents=("aml.md",)),
            RetrievalOptions(candidates_per_leg=3, variant_providers=(FixedVariants(("CDD",)),)),
        ),
        ("aspirin", Filters(), RetrievalOptions(legs=("vector",), rewrite_query=False)),
    ],
)
def test_batched_variants_rank_as_each_variant_alone(corpora, alice, query, filters, options):
    readable = readable_corpora(alice)

    hits = retrieve(query, readable, filters, k=20, options=options)

    assert hits
    assert hits == retrieve_variant_by_variant(query, readable, filters, 20, options)


def test_stale_candidates_are_skipped_as_one_by_one(corpora, alice, tmp_path, monkeypatch):
    from types import SimpleNamespace

    from apps.retrieval import receivers

    no_rebuild = SimpleNamespace(enqueue=lambda *args: None)
    monkeypatch.setattr(receivers, "tasks", SimpleNamespace(build_bm25_index=no_rebuild))
    changed = tmp_path / "aml.md"
    changed.write_text(changed.read_text().replace("six years", "ten years"))
    ingest(corpora[0], changed)  # the BM25 index still ranks the superseded chunks
    readable, options = readable_corpora(alice), RetrievalOptions(rerank_top=1)

    for k in (1, 2, 3):
        with CaptureQueriesContext(connection) as captured:
            hits = retrieve("records kept six years", readable, k=k, options=options)

        assert len(hits) == k and len(captured) > 3  # the first read met superseded chunks
        assert hits == retrieve_variant_by_variant(
            "records kept six years", readable, Filters(), k, options
        )


def queries_per_retrieve(corpora, variants: tuple[str, ...]) -> int:
    options = RetrievalOptions(variant_providers=(FixedVariants(variants),))
    retrieve("due diligence", corpora, k=5, options=options)  # loads the BM25 index
    with CaptureQueriesContext(connection) as captured:
        retrieve("due diligence", corpora, k=5, options=options)
    return len(captured)


def test_queries_per_retrieve_do_not_grow_with_the_variants(corpora, alice):
    readable = readable_corpora(alice)

    one_variant = queries_per_retrieve(readable, ())
    most_variants = queries_per_retrieve(readable, EXTRA_VARIANTS[: MAX_VARIANTS - 1])

    assert one_variant == most_variants == 3  # BM25 generations, vector leg, hydration


def test_corpora_of_two_domains_fused_apart_cost_no_query_more(corpora):
    # Each candidate's domain is read from the BM25 indexes that hold it.
    from apps.retrieval import tuned_fusion
    from apps.retrieval.tuned_fusion import FusionChoice

    tuned_fusion.save("legal", FusionChoice("weighted", {"vector": 1.0, "bm25": 3.0}), {})

    assert queries_per_retrieve(list(corpora), EXTRA_VARIANTS[:2]) == 3


def test_the_vector_leg_embeds_the_original_and_provider_variants_only(corpora, alice, monkeypatch):
    embedder, embedded = get_embedder(), []
    encode = embedder.encode
    monkeypatch.setattr(embedder, "encode", lambda texts: embedded.append(texts) or encode(texts))
    options = RetrievalOptions(variant_providers=(FixedVariants(("customer checks",)),))

    retrieve("CDD records under 42 USC 1983", readable_corpora(alice), k=5, options=options)

    assert embedded == [["CDD records under 42 USC 1983", "customer checks"]]
