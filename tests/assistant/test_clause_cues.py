from __future__ import annotations

import pytest

from apps.assistant.clause_cues import cues_for, known_questions, search_query
from apps.assistant.generators.extractive import ExtractiveGenerator
from apps.assistant.models import AnswerStatus
from apps.assistant.services import answer_question

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
