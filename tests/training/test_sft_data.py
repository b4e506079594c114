"""The training-data builder: tuning halves only, the product's prompt, checked targets."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given
from hypothesis import strategies as st

from apps.assistant import citations
from apps.assistant.answer_format import parse_draft
from apps.assistant.generators.json_constraint import DONE, START, AnswerMachine
from apps.assistant.prompts import Prompt, template_version
from apps.evaluation.questions import Question, load_questions
from apps.training.sft_data import (
    DatasetConfig,
    DatasetError,
    Example,
    abstentions_capped,
    dataset_load,
    tuning_questions,
)
from tests.training.conftest import dataset_built


@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=30, unique=True))
def test_the_tuning_half_never_holds_a_held_out_question(ids):
    questions = [Question(id=i, text="q?", gold=(), scope_document=None, group=None) for i in ids]
    held_out = {q.id for q in questions if q.split == "held_out"}
    assert not held_out & {q.id for q in questions if q.split == "tune"}


def test_tuning_questions_reads_only_the_tuning_half(rules_questions):
    path, _ = rules_questions
    assert [q.id for q in tuning_questions(path, None)] == ["rq0", "rq2", "rq5"]
    assert [q.id for q in tuning_questions(path, 2)] == ["rq0", "rq2"]


@pytest.fixture
def built(dataset, rules_questions):
    return (dataset, *rules_questions)


def test_the_dataset_holds_no_held_out_question_and_records_its_making(built):
    out, path, unanswerable = built
    manifest, examples = dataset_load(out)
    held_out = {q.id for f in (path, unanswerable) for q in load_questions(f)} - {
        q.id for f in (path, unanswerable) for q in load_questions(f) if q.split == "tune"
    }
    assert held_out and not held_out & {e["id"] for e in examples}
    assert manifest["prompt_template_version"] == template_version()
    assert manifest["retrieval"]["sources"] == 2
    assert {f["path"] for f in manifest["files"]} == {str(path), str(unanswerable)}
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])
    assert manifest["counts"]["minireg"]["answer"] >= 1
    assert manifest["counts"]["minireg"]["abstention"] >= 1
    assert "Rules written for the tests" in manifest["attributions"]["minireg"]
    assert len(manifest["dataset_sha256"]) == 64


def test_abstentions_can_be_capped_to_a_share_keeping_every_answer(built, tmp_path):
    # A small model taught on many abstentions learns that abstaining is the safe output.
    out, path, unanswerable = built
    _, every = dataset_load(out)
    answers = sum(e["kind"] == "answer" for e in every)
    abstentions = len(every) - answers
    capped = dataset_built(tmp_path / "capped", (path, unanswerable), "--max-abstention-share", "0")
    manifest, examples = dataset_load(capped)
    assert abstentions >= 1 and answers >= 1
    assert [e["kind"] for e in examples] == ["answer"] * answers
    assert manifest["abstentions_left_out"] == abstentions
    assert manifest["config"]["max_abstention_share"] == 0
    assert sum(manifest["counts"]["minireg"].values()) == len(examples)


@pytest.mark.parametrize("share, kept", [(0.5, 4), (0.25, 1), (0.2, 1), (0.1, 0), (None, 6)])
def test_the_abstention_cap_keeps_a_seeded_sample_within_the_share(share, kept):
    examples = [
        Example(id=f"{kind}{n}", set="s", kind=kind, system="", user="", completion="")
        for n, kind in enumerate(["answer"] * 4 + ["abstention"] * 6)
    ]
    config = DatasetConfig(max_abstention_share=share)
    capped, left_out = abstentions_capped(examples, config)
    abstentions = [e.id for e in capped if e.kind == "abstention"]
    assert len(abstentions) == kept and left_out == 6 - kept
    assert [e.id for e in capped if e.kind == "answer"] == [
        "answer0",
        "answer1",
        "answer2",
        "answer3",
    ]
    assert abstentions == [
        e.id for e in abstentions_capped(examples, config)[0] if e.kind == "abstention"
    ]
    assert share is None or len(abstentions) / len(capped) <= share


def test_an_abstention_share_outside_0_to_1_is_refused(db, rules_questions, tmp_path):
    path, _ = rules_questions
    with pytest.raises(CommandError, match="--max-abstention-share"):
        call_command(
            "build_sft_dataset",
            "--questions",
            str(path),
            "--out",
            str(tmp_path / "d"),
            "--max-abstention-share",
            "1.5",
        )


def test_every_answer_target_passes_the_citation_checker(built):
    out, _, _ = built
    _, examples = dataset_load(out)
    for example in examples:
        draft = parse_draft(example["completion"])
        assert draft.malformed is None
        if example["kind"] == "abstention":
            assert draft.statements == () and draft.abstain_reason
            continue
        for statement in draft.statements:
            assert statement.quote and statement.quote in statement.text
            assert list(statement.citations) == example["gold_numbers"][:1] or (
                statement.citations[0] in example["gold_numbers"]
            )
        assert f"<source id={example['gold_numbers'][0]} " in example["user"]


def test_every_target_is_written_in_the_layout_the_local_model_is_held_to(built):
    # Taught in one order and decoded in another, a model would be pushed off what it learnt.
    out, _, _ = built
    _, examples = dataset_load(out)
    for example in examples:
        sources = example["user"].count("<source id=")
        assert AnswerMachine(sources).advance(START, example["completion"]) == DONE
        if example["kind"] == "answer":
            assert example["completion"].startswith('{"statements": [{"citations": [')


def test_targets_are_checked_against_the_prompt_they_are_taught_with(built, monkeypatch):
    out, path, _ = built
    calls = []
    real = citations.check

    def spy(statements, sources, readable, focus=None):
        calls.append([s.number for s in sources])
        return real(statements, sources, readable, focus)

    monkeypatch.setattr("apps.training.sft_data.citations.check", spy)
    again = out.parent / "again"
    call_command(
        "build_sft_dataset", "--questions", str(path), "--out", str(again), "--sources", "2"
    )
    assert calls and all(numbers == [1, 2] for numbers in calls)  # the prompt's own sources
    first, second = dataset_load(out)[1], dataset_load(again)[1]
    answers = [e for e in first if e["kind"] == "answer"]
    assert sorted(answers, key=lambda e: e["id"]) == sorted(
        [e for e in second if e["kind"] == "answer"], key=lambda e: e["id"]
    )


def test_a_tampered_dataset_is_refused(built):
    out, _, _ = built
    with open(out / "examples.jsonl", "a") as handle:
        handle.write(json.dumps({"id": "forged"}) + "\n")
    with pytest.raises(DatasetError, match="does not match"):
        dataset_load(out)


def test_bad_input_is_a_clear_command_error(db, tmp_path):
    with pytest.raises(CommandError, match="no questions file"):
        call_command(
            "build_sft_dataset",
            "--questions",
            str(tmp_path / "none.jsonl"),
            "--out",
            str(tmp_path / "out"),
        )
    with pytest.raises(CommandError, match="--sources"):
        call_command(
            "build_sft_dataset", "--questions", "x", "--out", str(tmp_path / "o"), "--sources", "0"
        )


def test_the_prompt_version_follows_the_prompt(monkeypatch):
    before = template_version()
    monkeypatch.setattr("apps.assistant.prompts.SYSTEM", "Another system prompt.")
    assert template_version() != before
    assert Prompt  # the builder is the product's (assistant.prompts.build)
