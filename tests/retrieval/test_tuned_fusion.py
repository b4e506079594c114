from __future__ import annotations

import json
import math
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.corpora.models import Domain
from apps.retrieval import tuned_fusion
from apps.retrieval.search import RetrievalOptions, retrieve, with_fusion
from apps.retrieval.tuned_fusion import UNTUNED, FusionChoice
from tests.retrieval.test_evaluation import DOCUMENTS, QUESTIONS, evaluate_json, write_jsonl

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


def make_set(folder: Path, domain: str) -> Path:
    folder.mkdir()
    write_jsonl(
        folder / "documents.jsonl", [{**d, "metadata": {"domain": domain}} for d in DOCUMENTS]
    )
    write_jsonl(folder / "questions.dev.jsonl", QUESTIONS)
    return folder / "questions.dev.jsonl"


def tune(*paths: Path, write: bool = False) -> str:
    out = StringIO()
    args = [arg for path in paths for arg in ("--questions", str(path))]
    call_command(
        "tune_fusion", *args, *(["--write"] if write else []), stdout=out, stderr=StringIO()
    )
    return out.getvalue()


def test_tuning_scores_fusions_as_the_evaluation_does_and_records_its_choice(
    db, tmp_path, tuned_fusion_file
):
    questions = make_set(tmp_path / "rulesets", "regulatory")

    out = tune(questions, write=True)

    assert "nDCG@10, mean over the sets" in out
    assert "reciprocal rank fusion (vector 1, bm25 1)" in out
    assert "Chosen for regulatory: " in out and f"Wrote {tuned_fusion_file}" in out
    entry = json.loads(tuned_fusion_file.read_text())["domains"]["regulatory"]
    assert entry["tuned_on"] == ["rulesets (1 questions; 3 held out)"]
    assert entry["ndcg@10"]["tune"] >= entry["untuned_ndcg@10"]["tune"]
    # The untuned row is what evaluate_retrieval measures for hybrid-rrf, split for split;
    # the tuned one is what it now measures for hybrid.
    report = evaluate_json(questions, tmp_path, "--legs", "hybrid,hybrid-rrf")
    for split in ("tune", "held_out"):
        for name, key in (("hybrid-rrf", "untuned_ndcg@10"), ("hybrid", "ndcg@10")):
            measured = report["summaries"][name][f"split={split}"]["ndcg"] or 0.0
            assert measured == pytest.approx(entry[key][split], abs=1e-4)
    assert report["fusions"]["hybrid"] == tuned_fusion.fusion_for({"regulatory"}).describe()


def test_without_write_nothing_is_recorded(db, tmp_path, tuned_fusion_file):
    out = tune(make_set(tmp_path / "rulesets", "regulatory"))

    assert "Chosen for regulatory: " in out
    assert not tuned_fusion_file.exists()


def test_question_sets_of_different_domains_are_refused(db, tmp_path):
    rules = make_set(tmp_path / "rulesets", "regulatory")
    clinical = make_set(tmp_path / "clinicalsets", "medical")

    with pytest.raises(CommandError, match=r"must share one domain.*rulesets \(regulatory\)"):
        tune(rules, clinical)


def test_a_file_without_gold_is_refused(db, tmp_path):
    folder = tmp_path / "nogold"
    folder.mkdir()
    write_jsonl(folder / "documents.jsonl", DOCUMENTS)
    write_jsonl(folder / "questions.dev.jsonl", [QUESTIONS[-1]])

    with pytest.raises(CommandError, match="no question with gold spans"):
        tune(folder / "questions.dev.jsonl")
