from __future__ import annotations

import json
import math
from pathlib import Path

from apps.corpora.models import Domain
from apps.retrieval import tuned_fusion
from apps.retrieval.search import RetrievalOptions, retrieve, with_fusion
from apps.retrieval.tuned_fusion import UNTUNED, FusionChoice

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


def test_corpora_of_several_domains_or_an_untuned_one_get_untuned_fusion(corpus_a, corpus_b):
    tuned_fusion.save("legal", LEANING_ON_KEYWORDS, {})

    legal, medical = corpus_a, corpus_b
    assert with_fusion(RetrievalOptions(), [legal]).fusion == "weighted"
    for corpora in ([legal, medical], [medical]):
        settled = with_fusion(RetrievalOptions(), corpora)
        assert FusionChoice(settled.fusion, settled.leg_weights) == UNTUNED


def test_saving_a_domain_keeps_the_others_and_takes_effect_at_once(tuned_fusion_file):
    tuned_fusion.save("legal", LEANING_ON_KEYWORDS, {"tuned_on": ["cuad"]})
    assert tuned_fusion.fusion_for({"legal"}) == LEANING_ON_KEYWORDS

    tuned_fusion.save("medical", UNTUNED, {})
    tuned_fusion.save("legal", FusionChoice("rrf", {"vector": 1.0, "bm25": 0.5}), {})

    saved = json.loads(tuned_fusion_file.read_text())["domains"]
    assert list(saved) == ["legal", "medical"]
    assert saved["legal"] == {"method": "rrf", "leg_weights": {"vector": 1.0, "bm25": 0.5}}
    assert tuned_fusion.fusion_for({"legal"}).leg_weights == {"vector": 1.0, "bm25": 0.5}
