from __future__ import annotations

import json

from django.core.management import call_command

from apps.review.examples import NONE_SUPPORTED, checker_examples, sft_corrections
from apps.review.selectors import effective_reviews
from apps.review.services import review_save, review_sign_off
from apps.training.sft_data import DatasetConfig, dataset_load
from tests.review.conftest import PASSAGE, all_labels, answer_with


def signed(reviewer, answer, overrides):
    draft = review_save(
        reviewer=reviewer, answer=answer, labels=all_labels(answer, overrides=overrides)
    )
    return review_sign_off(review=draft, reviewer=reviewer)


def test_labelled_citations_become_checker_items(alice, carol):
    answer = answer_with(alice)
    review = signed(carol, answer, {(0, 2): "misgrounded", (1, 1): "fabricated"})
    items = checker_examples([review])
    assert items == [
        {
            "id": f"review-{review.pk}-s1-c1",
            "statement": "Records are kept for six years.",
            "passage": PASSAGE,
            "label": "supported",
            "kind": "review_correct",
        },
        {
            "id": f"review-{review.pk}-s1-c2",
            "statement": "Records are kept for six years.",
            "passage": PASSAGE,
            "label": "unsupported",
            "kind": "review_misgrounded",
        },
    ]


def test_the_export_command_writes_what_evaluate_checker_reads(alice, carol, tmp_path):
    signed(carol, answer_with(alice), {(1, 1): "incorrect"})
    out = tmp_path / "reviews.jsonl"
    call_command("export_review_examples", "--out", str(out))
    from apps.evaluation.checker_examples import read_examples

    examples = read_examples(out)
    assert [(e.kind, e.label) for e in examples] == [
        ("review_correct", "supported"),
        ("review_correct", "supported"),
        ("review_incorrect", "unsupported"),
    ]
    call_command("evaluate_checker", "--examples", str(out), "--json", str(tmp_path / "r.json"))
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["example_count"] == 3


def test_answers_found_wrong_become_corrected_fine_tuning_targets(alice, carol):
    wrong = answer_with(alice)
    signed(carol, wrong, {(0, 2): "misgrounded", (1, 1): "incorrect"})
    partly = answer_with(alice, citations=1)
    signed(carol, partly, {(1, 1): "incorrect"})
    signed(carol, answer_with(alice), {})  # all correct: nothing to teach

    examples = sft_corrections(effective_reviews().order_by("pk"))

    assert [e["kind"] for e in examples] == ["review_correction"] * 2
    assert json.loads(examples[0]["completion"]) == {
        "statements": [],
        "abstain": {"reason": NONE_SUPPORTED},
    }
    assert json.loads(examples[1]["completion"])["statements"] == [
        {"text": "Records are kept for six years.", "citations": [1], "quote": "at least six years"}
    ]
    assert examples[1]["system"] == wrong.prompt.get("system", "")


def test_build_sft_dataset_takes_the_corrections(alice, carol, tmp_path):
    from apps.training.sft_data import dataset_build

    signed(carol, answer_with(alice), {(0, 1): "misgrounded"})
    manifest = dataset_build(
        questions=[], out=tmp_path, config=DatasetConfig(review_corrections=True)
    )
    _, examples = dataset_load(tmp_path)
    assert manifest["counts"] == {"reviews": {"review_correction": 1}}
    assert manifest["config"]["review_corrections"] is True
    assert examples[0]["kind"] == "review_correction"
