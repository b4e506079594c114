from __future__ import annotations

import json
import math
from pathlib import Path

from apps.accounts.services import corpus_access_grant
from apps.corpora.models import Domain
from apps.retrieval import tuned_fusion
from apps.retrieval.fusion import reciprocal_rank_fusion
from apps.retrieval.search import RetrievalOptions, fusion_plan, retrieve, retrieve_traced
from apps.retrieval.tuned_fusion import UNTUNED, FusionChoice
from tests.conftest import practitioner

SHIPPED = Path(tuned_fusion.__file__).parent / "data" / "fusion.json"
LEANING_ON_KEYWORDS = FusionChoice("weighted", {"vector": 1.0, "bm25": 2.0})
URL = "/api/v1/search"


def search(client, **body) -> dict:
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_shipped_tunings_are_complete_and_beat_untuned_fusion_on_held_out_questions():
    domains = json.loads(SHIPPED.read_text())["domains"]

    assert set(domains) == set(Domain.values)
    for entry in domains.values():
        assert entry["method"] in tuned_fusion.METHODS
        assert set(entry["leg_weights"]) == {"vector", "bm25"}
        assert all(math.isfinite(w) and w >= 0 for w in entry["leg_weights"].values())
        assert entry["tuned_on"]
        assert entry["ndcg@10"]["held_out"] >= entry["untuned_ndcg@10"]["held_out"]


def test_corpora_of_one_tuned_domain_are_fused_as_tuned(corpora, alice, login):
    tuned_fusion.save("legal", LEANING_ON_KEYWORDS, {})

    body = search(login(alice), query="beneficial owner of a legal person")

    assert body["fusion"] == {"method": "weighted", "leg_weights": {"vector": 1.0, "bm25": 2.0}}
    explicit = retrieve(
        "beneficial owner of a legal person",
        [corpora[0]],
        options=RetrievalOptions(fusion="weighted", leg_weights={"vector": 1.0, "bm25": 2.0}),
    )
    assert [h["chunk_id"] for h in body["hits"]] == [h.chunk_id for h in explicit]


def test_a_fusion_or_weights_named_by_the_caller_override_the_tuned_one(corpora, alice, login):
    tuned_fusion.save("legal", LEANING_ON_KEYWORDS, {})
    client = login(alice)

    named = search(client, query="beneficial owner", fusion="rrf")
    weights_only = search(client, query="beneficial owner", weights={"bm25": 3})

    assert named["fusion"] == {"method": "rrf", "leg_weights": {"vector": 1.0, "bm25": 1.0}}
    assert weights_only["fusion"] == {"method": "rrf", "leg_weights": {"vector": 1.0, "bm25": 3.0}}


def test_each_domain_gets_its_own_tuned_fusion_and_an_untuned_one_rrf(corpus_a, corpus_b):
    tuned_fusion.save("legal", LEANING_ON_KEYWORDS, {})
    legal, medical = corpus_a, corpus_b

    assert fusion_plan(RetrievalOptions(), [legal]).single == LEANING_ON_KEYWORDS
    assert fusion_plan(RetrievalOptions(), [medical]).single == UNTUNED
    mixed = fusion_plan(RetrievalOptions(), [legal, medical])
    assert mixed.single is None
    assert mixed.by_domain == {"legal": LEANING_ON_KEYWORDS, "medical": UNTUNED}
    named = fusion_plan(RetrievalOptions(fusion="rrf"), [legal, medical])
    assert named.single == UNTUNED and set(named.by_domain) == {"legal", "medical"}


# Two fusions that disagree as much as fusions can: legal ranks by BM25 alone, medical by the
# vector leg alone.
BY_KEYWORDS = FusionChoice("rrf", {"vector": 0.0, "bm25": 1.0})
BY_MEANING = FusionChoice("rrf", {"vector": 1.0, "bm25": 0.0})
MIXED_QUERY = "records of due diligence and aspirin doses kept after a heart attack"


def leg_ranking(query: str, corpora, leg: str) -> list[int]:
    options = RetrievalOptions(legs=(leg,), fusion="rrf", rewrite_query=False)
    return [hit.chunk_id for hit in retrieve(query, corpora, k=50, options=options)]


def own_rank_order(corpora, domain_of: dict[int, str]) -> list[int]:
    """What the mixed plan should give, from each leg alone: every candidate is ranked by both
    domains' fusions, and each chunk takes its rank in its own domain's ranking."""
    legs = [leg_ranking(MIXED_QUERY, corpora, leg) for leg in ("vector", "bm25")]
    ranks = {}
    for domain, choice in (("legal", BY_KEYWORDS), ("medical", BY_MEANING)):
        weights = [choice.leg_weights["vector"], choice.leg_weights["bm25"]]
        fused = reciprocal_rank_fusion(legs, k=60, weights=weights)
        ranks[domain] = {chunk_id: rank for rank, (chunk_id, _) in enumerate(fused, start=1)}

    return sorted(domain_of, key=lambda chunk_id: (ranks[domain_of[chunk_id]][chunk_id], chunk_id))


def test_over_two_domains_each_chunk_is_ranked_by_its_own_domains_fusion(corpora):
    tuned_fusion.save("legal", BY_KEYWORDS, {})
    tuned_fusion.save("medical", BY_MEANING, {})
    options = RetrievalOptions(rewrite_query=False)

    hits = retrieve(MIXED_QUERY, corpora, k=50, options=options)

    assert {hit.corpus for hit in hits} == {"a", "b"}
    domain_of = {hit.chunk_id: {"a": "legal", "b": "medical"}[hit.corpus] for hit in hits}
    assert [hit.chunk_id for hit in hits] == own_rank_order(corpora, domain_of)
    assert [hit.fused_score for hit in hits] == sorted((h.fused_score for h in hits), reverse=True)
    # Each corpus's own hits keep the order its domain's fusion gives them.
    legal_alone = retrieve(MIXED_QUERY, corpora[:1], k=50, options=options)
    assert [h.chunk_id for h in hits if h.corpus == "a"] == [h.chunk_id for h in legal_alone]


def test_domains_fused_alike_rank_as_that_one_fusion_did_before(corpora):
    tuned_fusion.save("legal", LEANING_ON_KEYWORDS, {})
    tuned_fusion.save("medical", LEANING_ON_KEYWORDS, {})
    named = RetrievalOptions(fusion="weighted", leg_weights={"vector": 1.0, "bm25": 2.0})

    for plain in (RetrievalOptions(), named):
        hits = retrieve(MIXED_QUERY, corpora, k=20, options=plain)
        assert hits == retrieve(MIXED_QUERY, corpora, k=20, options=named)


def test_the_search_api_shows_each_domains_fusion_over_several_domains(corpora, login):
    tuned_fusion.save("legal", BY_KEYWORDS, {})
    reader = practitioner("dora", corpora[0])
    corpus_access_grant(corpus=corpora[1], user=reader)

    body = search(login(reader), query=MIXED_QUERY, k=20)

    assert body["fusion"] == {
        "method": "per-domain",
        "domains": {
            "legal": {"method": "rrf", "leg_weights": {"vector": 0.0, "bm25": 1.0}},
            "medical": {"method": "rrf", "leg_weights": {"vector": 1.0, "bm25": 1.0}},
        },
    }
    traced = retrieve_traced(MIXED_QUERY, list(corpora), k=20)
    assert [h["chunk_id"] for h in body["hits"]] == [h.chunk_id for h in traced.hits]


def test_saving_a_domain_keeps_the_others_and_takes_effect_at_once(tuned_fusion_file):
    tuned_fusion.save("legal", LEANING_ON_KEYWORDS, {"tuned_on": ["cuad"]})
    assert tuned_fusion.fusion_for({"legal"}) == LEANING_ON_KEYWORDS

    tuned_fusion.save("medical", UNTUNED, {})
    tuned_fusion.save("legal", FusionChoice("rrf", {"vector": 1.0, "bm25": 0.5}), {})

    saved = json.loads(tuned_fusion_file.read_text())["domains"]
    assert list(saved) == ["legal", "medical"]
    assert saved["legal"] == {"method": "rrf", "leg_weights": {"vector": 1.0, "bm25": 0.5}}
    assert tuned_fusion.fusion_for({"legal"}).leg_weights == {"vector": 1.0, "bm25": 0.5}
