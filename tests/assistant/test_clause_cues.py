from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from apps.assistant import clause_cue_learning
from apps.assistant.clause_cues import cues_for, known_questions, search_query
from apps.assistant.generators.extractive import ExtractiveGenerator
from apps.assistant.models import AnswerStatus
from apps.assistant.services import answer_question
from apps.retrieval.evaluation import Question

DATE_QUESTION = "The date of the contract"
GOVERNING_LAW_QUESTION = "Which state/country's law governs the interpretation of the contract?"
CAP_QUESTION = (
    "Does the contract include a cap on liability upon the breach of a party’s obligation? This "
    "includes time limitation for the counterparty to bring claims or maximum amount for "
    "recovery."
)

CONTRACT = """SUPPLY AGREEMENT

This Supply Agreement (the "Agreement") is made and entered into as of March 3, 2010 by and
between Acme Widgets, Inc., a Delaware corporation with its principal place of business at
100 Main Street, Dover, Delaware ("Acme"), and Borealis Trading Ltd., an Ontario corporation
("Borealis").

WHEREAS, Acme manufactures industrial widgets and Borealis distributes industrial equipment in
Canada; and WHEREAS, Borealis wishes to buy widgets from Acme for resale in its territory.

NOW, THEREFORE, in consideration of the mutual covenants set out below, the parties agree as
follows.

1. Supply. Acme shall sell to Borealis, and Borealis shall buy from Acme, the widgets listed
in each purchase order that Acme accepts in writing.

2. Delivery. Acme shall deliver the widgets to the Borealis warehouse in Toronto within thirty
(30) days after it accepts the purchase order, and title passes to Borealis on delivery.

3. Payment. Borealis shall pay each invoice within forty-five (45) days of its date, in United
States dollars, by wire transfer to the account that Acme names in the invoice.

4. Inspection. Borealis may inspect the widgets within ten (10) days of delivery and reject
any widget that does not meet the specifications attached to the purchase order.

5. Governing Law. This Agreement shall be governed by and construed in accordance with the
laws of the State of New York, without regard to its conflict of laws principles.

6. Notices. Every notice under this Agreement shall be in writing and delivered by hand or by
courier to the address of the receiving party stated above.
"""


@pytest.fixture
def contract(alice, corpus_a, tmp_path):
    from tests.corpora.conftest import ingest

    path = tmp_path / "supply-agreement.txt"
    path.write_text(CONTRACT)
    ingest(corpus_a, path)
    return corpus_a


def ask(user, question: str):
    return answer_question(user=user, question=question, generator=ExtractiveGenerator())


def test_a_known_question_is_matched_whatever_its_case_and_spacing():
    cues = cues_for("  which state/country's LAW governs the\ninterpretation of the contract? ")
    assert cues is not None and cues.category == "Governing Law"
    assert cues_for("Which law governs the contract?") is None


def test_every_known_question_that_answers_has_weighed_terms():
    known = known_questions().values()
    assert len(known) == 41
    assert all(cues.weights for cues in known if cues.threshold is not None)


def test_a_known_question_is_searched_for_with_its_clause_vocabulary():
    query = search_query(GOVERNING_LAW_QUESTION)
    assert query.startswith(GOVERNING_LAW_QUESTION + " ")
    assert "accordance with the laws of the State of" in query
    assert search_query("Which law governs the contract?") == "Which law governs the contract?"


def test_the_date_of_a_contract_is_quoted_from_its_opening(alice, contract):
    answer = ask(alice, DATE_QUESTION)
    assert answer.status == AnswerStatus.ANSWERED
    first = answer.shown_statements[0]
    assert "made and entered into as of March 3, 2010" in first["text"]
    [number] = first["citations"]
    assert next(h for h in answer.hits if h["number"] == number)["char_start"] == 0


def test_the_clause_of_a_known_question_is_quoted(alice, contract):
    answer = ask(alice, GOVERNING_LAW_QUESTION)
    assert answer.status == AnswerStatus.ANSWERED
    assert "laws of the State of New York" in answer.shown_statements[0]["text"]


def test_a_contract_without_the_clause_gets_an_abstention(alice, contract):
    answer = ask(alice, CAP_QUESTION)
    assert answer.status == AnswerStatus.ABSTAINED
    assert not answer.shown_statements


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
