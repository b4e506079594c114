from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.selectors import readable_corpora
from apps.corpora.embedding import configured_model_name
from apps.corpora.models import Chunk, Document
from apps.retrieval import tuned_fusion
from apps.retrieval.filters import Filters
from apps.retrieval.legs import Bm25Leg
from apps.retrieval.models import Bm25Index
from apps.retrieval.rewrite import QueryVariant
from apps.retrieval.search import (
    RetrievalError,
    RetrievalOptions,
    chunk_domains,
    retrieve,
    retrieve_traced,
)
from apps.retrieval.tokenize import ANALYSER_VERSION
from apps.retrieval.tuned_fusion import UNTUNED, FusionChoice, FusionPlan
from tests.retrieval.conftest import CANARY


def test_ingestion_builds_a_bm25_generation_per_corpus(corpora):
    for corpus in corpora:
        index = Bm25Index.objects.get(corpus=corpus)
        assert index.status == "ready" and index.generation == 1
        assert index.chunk_count == Chunk.objects.filter(corpus=corpus).count()


def test_hybrid_hits_carry_each_legs_score_and_exact_offsets(corpora, alice):
    hits = retrieve("how long must due diligence records be kept", readable_corpora(alice), k=3)

    assert hits and "six years" in hits[0].text
    top = hits[0]
    assert set(top.legs) == {"vector", "bm25"}
    assert top.fused_rank == 1 and top.legs["bm25"].rank >= 1 and top.legs["vector"].score > 0
    document = Document.objects.get(pk=top.document_id)
    assert document.text[top.char_start : top.char_end] == top.text
    assert [h.fused_rank for h in hits] == list(range(1, len(hits) + 1))


def test_a_hit_carries_its_documents_title(corpora, alice):
    hits = retrieve("how long must due diligence records be kept", readable_corpora(alice), k=3)

    titles = dict(Document.objects.values_list("pk", "title"))
    assert hits and all(hit.document_title == titles[hit.document_id] for hit in hits)
    assert hits[0].document_title == "Anti-Money Laundering Rules"


QUERY = "ADA records under 42 USC 1983"


class FixedVariant:
    def variants(self, query: str, domains: frozenset[str]) -> list[QueryVariant]:
        return [QueryVariant("customer checks", "model")]


def test_the_trace_says_what_the_search_ran_with(corpora, alice):
    tuned_fusion.save("legal", FusionChoice("weighted", {"vector": 1.0, "bm25": 3.0}), {})
    options = RetrievalOptions(variant_providers=(FixedVariant(),), candidates_per_leg=20)

    traced = retrieve_traced(QUERY, readable_corpora(alice), k=3, options=options)

    trace = traced.trace
    assert traced.hits == retrieve(QUERY, readable_corpora(alice), k=3, options=options)
    assert trace.query == QUERY
    assert trace.variants == (
        QueryVariant(QUERY, "original"),
        QueryVariant("ADA (Americans with Disabilities Act) records under 42 USC 1983", "expanded"),
        QueryVariant("ADA records under 42 U.S.C. § 1983", "citation"),
        QueryVariant("customer checks", "model"),
    )
    assert trace.fusion.single == FusionChoice("weighted", {"vector": 1.0, "bm25": 3.0})
    assert (trace.legs, trace.candidates_per_leg, trace.rrf_k) == (("vector", "bm25"), 20, 60)
    assert trace.embedding_model == configured_model_name()
    assert trace.analyser_version == ANALYSER_VERSION
    assert trace.as_dict()["fusion"] == {
        "legal": {"method": "weighted", "leg_weights": {"vector": 1.0, "bm25": 3.0}}
    }
    assert trace.as_dict()["variants"][3] == {"text": "customer checks", "source": "model"}


def test_the_trace_of_a_mixed_search_gives_each_domains_fusion(corpora):
    tuned_fusion.save("legal", FusionChoice("weighted", {"vector": 1.0, "bm25": 3.0}), {})

    trace = retrieve_traced("aspirin records", list(corpora), k=3).trace

    assert trace.fusion.single is None
    assert trace.as_dict()["fusion"] == {
        "legal": {"method": "weighted", "leg_weights": {"vector": 1.0, "bm25": 3.0}},
        "medical": {"method": "rrf", "leg_weights": {"vector": 1.0, "bm25": 1.0}},
    }


def test_a_candidate_no_index_holds_yet_gets_its_domain_from_the_database(corpora):
    corpus = corpora[0]
    chunk = Chunk.objects.filter(corpus=corpus).first()
    plan = FusionPlan({"legal": UNTUNED, "medical": FusionChoice("weighted", {"vector": 1.0})})
    rankings = {"vector": [[(chunk.pk, 0.9)]]}
    assert chunk_domains(rankings, list(corpora), plan, Bm25Leg({}, None)) == {
        chunk.pk: corpus.domain
    }


def test_a_recorded_fusion_is_replayed_whatever_was_tuned_since(corpora):
    by_keywords = FusionChoice("rrf", {"vector": 0.0, "bm25": 1.0})
    by_meaning = FusionChoice("rrf", {"vector": 1.0, "bm25": 0.0})
    tuned_fusion.save("legal", by_keywords, {})
    tuned_fusion.save("medical", by_meaning, {})
    recorded = retrieve_traced("aspirin records", list(corpora), k=5)
    tuned_fusion.save("legal", by_meaning, {})
    tuned_fusion.save("medical", by_keywords, {})

    record = recorded.trace.as_dict()["fusion"]
    fusion = {domain: FusionChoice(**choice) for domain, choice in record.items()}
    replayed = retrieve_traced(
        "aspirin records", list(corpora), k=5, options=RetrievalOptions(fusion_by_domain=fusion)
    )

    assert replayed.hits == recorded.hits and replayed.trace == recorded.trace
    assert retrieve_traced("aspirin records", list(corpora), k=5).hits != recorded.hits


def test_a_search_of_no_corpora_still_has_a_trace(db):
    retrieval = retrieve_traced("due diligence", [], k=3)
    assert retrieval.hits == [] and retrieval.trace.query == "due diligence"
    assert retrieval.trace.variants == ()


def test_a_rule_number_finds_its_rule_through_bm25(corpora, alice):
    hits = retrieve(
        "Rule 1.1.2", readable_corpora(alice), k=1, options=RetrievalOptions(legs=("bm25",))
    )
    assert "25% or more" in hits[0].text


def test_an_abbreviation_is_expanded_for_the_corpus_domain(corpora, alice):
    hits = retrieve("PEP", readable_corpora(alice), k=1, options=RetrievalOptions(legs=("bm25",)))
    assert "Politically Exposed Person" in hits[0].text


@pytest.mark.parametrize("legs", [("vector",), ("bm25",), ("vector", "bm25")])
def test_a_canary_in_corpus_b_never_reaches_alice(corpora, alice, legs):
    hits = retrieve(
        f"{CANARY} protocol myocardial infarction aspirin MI",
        readable_corpora(alice),
        k=50,
        options=RetrievalOptions(legs=legs),
    )
    assert all(CANARY not in hit.text for hit in hits)
    assert {hit.corpus for hit in hits} <= {"a"}


def test_bob_finds_the_canary_in_his_corpus(corpora, bob):
    hits = retrieve(f"{CANARY} protocol", readable_corpora(bob), k=1)
    assert CANARY in hits[0].text


def test_nobody_reads_anything_without_a_grant(corpora, carol):
    assert retrieve("due diligence", readable_corpora(carol)) == []


def test_filters_apply_inside_both_legs(corpora, alice, tmp_path):
    other = tmp_path / "other.md"
    other.write_text("# Other\n\nCustomer due diligence is also described in this memo.\n")
    from tests.corpora.conftest import ingest

    ingest(corpora[0], other)
    for legs in [("vector",), ("bm25",)]:
        hits = retrieve(
            "customer due diligence",
            readable_corpora(alice),
            Filters(documents=("other.md",)),
            k=10,
            options=RetrievalOptions(legs=legs),
        )
        assert hits and {h.document_external_id for h in hits} == {"other.md"}


def test_stale_bm25_hits_are_rechecked_against_the_database(corpora, alice, tmp_path, monkeypatch):
    from types import SimpleNamespace

    from apps.retrieval import receivers

    no_rebuild = SimpleNamespace(enqueue=lambda *args: None)
    monkeypatch.setattr(receivers, "tasks", SimpleNamespace(build_bm25_index=no_rebuild))
    changed = tmp_path / "aml.md"
    changed.write_text(changed.read_text().replace("six years", "ten years"))
    from tests.corpora.conftest import ingest

    ingest(corpora[0], changed)
    hits = retrieve(
        "records kept six years",
        readable_corpora(alice),
        k=10,
        options=RetrievalOptions(legs=("bm25",)),
    )
    current = set(Chunk.objects.filter(document__status="active").values_list("id", flat=True))
    assert all(hit.chunk_id in current for hit in hits)
    assert all("six years" not in hit.text for hit in hits)


def test_without_a_reranker_a_search_reads_only_the_chunks_it_returns(corpora, alice):
    readable = readable_corpora(alice)
    with CaptureQueriesContext(connection) as captured:
        hits = retrieve("how long must due diligence records be kept", readable, k=1)

    statements = [query["sql"] for query in captured.captured_queries]
    (hydrating,) = [sql for sql in statements if "c.text" in sql]
    candidates = re.search(r"c\.id = ANY\('\{([^}]*)\}'", hydrating).group(1)
    assert len(hits) == 1 and len(candidates.split(",")) == 1


@pytest.mark.parametrize(
    ("query", "k", "message"),
    [
        ("", 10, "the query is empty"),
        ("   ", 10, "the query is empty"),
        ("x" * 10_000, 10, "10000 characters long"),
        ("ok", 0, "k must be between 1 and 200"),
        ("ok", 201, "k must be between 1 and 200"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(corpora, alice, query, k, message):
    with pytest.raises(RetrievalError, match=message):
        retrieve(query, readable_corpora(alice), k=k)
