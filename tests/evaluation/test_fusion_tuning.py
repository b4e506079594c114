from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.retrieval import tuned_fusion
from tests.evaluation.test_retrieval import DOCUMENTS, QUESTIONS, evaluate_json, write_jsonl


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
