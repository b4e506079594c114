from __future__ import annotations

import json

import pytest


@pytest.fixture
def rules_question_file(tmp_path):
    """A question file in the shared format over three short rules, with their gold spans."""
    folder = tmp_path / "minidev"
    folder.mkdir()
    rules = [
        "A Relevant Person must keep records of customer due diligence for at least six years "
        "after the business relationship ends. The Regulator may inspect the records at any "
        "time before the end of that period.",
        "An Authorised Person must notify the Regulator within 10 business days of any change "
        "in its Controllers. Licensee shall pay Licensor a fee of USD 500 every month.",
        "Excess body weight can also cause high blood pressure. Patients should take 5 mg of "
        "aspirin twice a day for no more than 14 days.",
    ]
    text = "\n\n".join(rules)
    documents = [{"id": "rules", "title": "Rules", "text": text, "metadata": {}}]
    questions, start = [], 0
    for number, rule in enumerate(rules):
        start = text.index(rule)
        span = {"document": "rules", "start": start, "end": start + len(rule)}
        questions.append({"id": f"q{number}", "question": "What applies?", "gold_spans": [span]})
    (folder / "documents.jsonl").write_text(json.dumps(documents[0]) + "\n")
    path = folder / "questions.dev.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in questions))
    return path
