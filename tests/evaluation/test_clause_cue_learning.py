from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from apps.assistant.clause_cues import known_questions
from apps.evaluation import clause_cue_learning
from apps.evaluation.questions import Question
from tests.assistant.test_clause_cues import GOVERNING_LAW_QUESTION

FILLER = [
    "The Supplier shall deliver the goods to the warehouse of the Buyer within ten days.",
    "The Buyer shall pay each invoice within thirty days of its date by wire transfer.",
    "Each party shall keep the confidential information of the other party secret.",
    "The Supplier shall keep the goods insured until they are delivered to the Buyer.",
]
LAW = "This Agreement is governed by the laws of the State of {state} without regard to conflicts."


def question_id(split: str, number: int) -> str:
    """The id of the `number`th synthetic question whose id falls into `split`."""
    ids = (f"c{n}:law" for n in range(1000))
    return [i for i in ids if Question(i, "", (), None, None).split == split][number]


@pytest.fixture
def question_file(tmp_path):
    documents, questions = [], []
    states = "Ohio Texas Utah Iowa Maine Idaho Kansas Oregon Nevada Vermont Alaska Hawaii".split()
    for number, state in enumerate(states):
        sentences = [*FILLER[number % 4 :], *FILLER[: number % 4]]
        if number < 8:
            sentences.insert(2, LAW.format(state=state))
        text = "\n\n".join(["CONTRACT", *sentences])
        document = f"contract-{number}"
        documents.append({"id": document, "title": document, "text": text, "metadata": {}})
        start = text.find("This Agreement is governed")
        questions.append(
            {
                "id": question_id("tune", number),
                "question": GOVERNING_LAW_QUESTION,
                "category": "Governing Law",
                "scope_document": document,
                "answerable": start >= 0,
                "gold_spans": [{"document": document, "start": start, "end": start + 60}]
                if start >= 0
                else [],
                "gold_documents": [document],
            }
        )
    held_out = question_id("held_out", 0)
    questions.append({**questions[0], "id": held_out, "category": "Held out"})
    path = tmp_path / "questions.dev.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in questions))
    (tmp_path / "documents.jsonl").write_text("".join(json.dumps(d) + "\n" for d in documents))
    return path


def test_cues_are_learned_from_the_tuning_half_only(question_file):
    [entry] = clause_cue_learning.learn(question_file)["questions"]
    assert entry["category"] == "Governing Law" and entry["tuning"]["questions"] == 12
    weights = entry["weights"]
    strongest = sorted(weights, key=weights.get, reverse=True)[:6]
    assert {"govern", "law", "conflict"} <= set(strongest)
    assert weights["govern"] > max(weights.get(term, 0) for term in ("buyer", "invoic", "deliv"))
    assert entry["threshold"] is not None
    assert entry["tuning"]["answered_on_gold"] == entry["tuning"]["with_clause"] == 8


def test_learn_clause_cues_writes_the_cue_file(question_file, tmp_path):
    out = tmp_path / "cues" / "clause_cues.json"
    call_command("learn_clause_cues", "--questions", str(question_file), "--out", str(out))
    assert known_questions(out)[GOVERNING_LAW_QUESTION.lower()].category == "Governing Law"
