from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


@pytest.fixture
def question_file(tmp_path):
    folder = tmp_path / "minidev"
    folder.mkdir()
    text = (
        "1.1.1 A Relevant Person must identify every beneficial owner holding 25% or more of a "
        "legal person that is its customer.\n\n3.1.1 Records of customer due diligence must be "
        "kept for at least six years after the business relationship ends."
    )
    documents = [{"id": "aml", "title": "AML Rules", "text": text, "metadata": {}}]
    start = text.index("3.1.1")
    questions = [
        {
            "id": "q1",
            "question": "For how long must customer due diligence records be kept?",
            "gold_spans": [{"document": "aml", "start": start, "end": len(text)}],
        },
        {
            "id": "q2",
            "question": "What is the interest rate on a mortgage?",
            "gold_documents": ["aml"],
            "answerable": False,
            "scope_document": "aml",
        },
    ]
    (folder / "documents.jsonl").write_text(json.dumps(documents[0]) + "\n")
    path = folder / "questions.dev.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in questions))
    return path


@pytest.mark.django_db
def test_evaluate_answers_scores_a_question_file_and_keeps_nothing(question_file, tmp_path):
    from apps.assistant.models import Answer

    out = tmp_path / "answers.json"
    call_command("evaluate_answers", "--questions", str(question_file), "--json", str(out))
    report = json.loads(out.read_text())
    overall = report["all"]
    assert report["backend"] == "extractive" and overall["questions"] == 2
    assert overall["answer_rate"] == 0.5 and overall["evidence_hit_rate"] == 1.0
    assert overall["statement_precision"] == 1.0
    assert overall["unanswerable"] == {"questions": 1, "abstained": 1.0}
    assert overall["answerable"]["answered_with_gold_evidence"] == 1.0
    assert {"retrieve", "total"} <= set(overall["latency_ms"])
    assert report["tune"]["questions"] + report["held_out"]["questions"] == 2
    assert not Answer.objects.exists()
    assert_every_question_is_listed(report["questions"])


def assert_every_question_is_listed(questions: list[dict]) -> None:
    """Each question's case: its status and reason, and each statement shown or dropped with
    its text, the labels of its citations and the reasons given."""
    assert [q["id"] for q in questions] == ["q1", "q2"]
    answered, abstained = questions
    assert set(answered) == {
        *("id", "split", "answerable", "status", "abstain_reason", "shown", "dropped"),
        *("evidence_hit", "adapter", "raw_output", "timings", "pointing"),
    }
    assert answered["evidence_hit"] and answered["pointing"] == {"located": 1, "pointed": 1}
    assert answered["status"] == "answered" and answered["abstain_reason"] is None
    assert answered["split"] in ("tune", "held_out")
    assert any("six years" in s["text"] for s in answered["shown"])
    for statement in answered["shown"] + answered["dropped"]:
        assert set(statement) == {"text", "reason", "citations"}
        for citation in statement["citations"]:
            assert set(citation) == {"number", "label", "supported", "reason"}
    shown_citation = answered["shown"][0]["citations"][0]
    assert shown_citation["label"] and shown_citation["supported"] is True
    assert abstained["status"] == "abstained" and abstained["abstain_reason"]
    assert abstained["shown"] == []


def test_evaluate_answers_explains_bad_input(tmp_path, db):
    with pytest.raises(CommandError, match="no questions file"):
        call_command("evaluate_answers", "--questions", str(tmp_path / "none.jsonl"))
    with pytest.raises(CommandError, match="--limit"):
        call_command("evaluate_answers", "--questions", "x.jsonl", "--limit", "0")
