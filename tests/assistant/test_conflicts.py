"""Statements that give different periods, times or amounts for what the question asks."""

from __future__ import annotations

import datetime

from apps.assistant import relevance
from apps.assistant.citations import CheckedStatement
from apps.assistant.conflicts import find_conflict

HOW_LONG = relevance.Focus("How long must records be kept?", (), relevance.DURATION)


def shown(text: str, source: int) -> CheckedStatement:
    return CheckedStatement(text, (source,), None, (), True, "supported")


def hit(number: int, document_id: int) -> dict:
    return {
        "number": number,
        "label": f"Rulebook {number}",
        "document_id": document_id,
        "document_external_id": f"doc-{document_id}",
        "document_version": 2,
    }


HITS = [hit(1, 10), hit(2, 20), hit(3, 30)]
SIX_YEARS = shown("Records must be kept for at least six years after the relationship ends.", 1)
ONE_YEAR = shown("Updated guidance: the retention period for the records is 1 year.", 2)


def test_two_periods_for_the_same_thing_are_a_conflict_with_both_sources():
    conflict = find_conflict(HOW_LONG, [SIX_YEARS, ONE_YEAR], HITS, {10: None, 20: None})
    assert conflict["kind"] == "period"
    assert [side["values"] for side in conflict["sides"]] == [["6 years"], ["1 year"]]
    assert [side["document"]["external_id"] for side in conflict["sides"]] == ["doc-10", "doc-20"]
    assert conflict["current"] is None


def test_the_most_recently_dated_document_is_named_current():
    dates = {10: datetime.date(2019, 1, 1), 20: datetime.date(2024, 6, 30)}
    conflict = find_conflict(HOW_LONG, [SIX_YEARS, ONE_YEAR], HITS, dates)
    assert conflict["current"] == 2
    assert conflict["sides"][1]["document"]["date"] == "2024-06-30"


def test_a_deadline_beside_a_period_is_no_conflict():
    deadline = shown("The firm must provide the records within one Business Day of a request.", 3)
    assert find_conflict(HOW_LONG, [SIX_YEARS, deadline], HITS, {}) is None


def test_agreeing_values_and_untyped_questions_are_no_conflict():
    again = shown("Such records are kept for six years from the date of the report.", 2)
    assert find_conflict(HOW_LONG, [SIX_YEARS, again], HITS, {}) is None
    untyped = relevance.Focus("What records must be kept?", (), None)
    assert find_conflict(untyped, [SIX_YEARS, ONE_YEAR], HITS, {}) is None


def test_a_dropped_statement_takes_no_side():
    dropped = CheckedStatement(ONE_YEAR.text, (2,), None, (), False, "off_topic")
    assert find_conflict(HOW_LONG, [SIX_YEARS, dropped], HITS, {}) is None
