"""Sources that disagree on what the question asks for.

When a question asks for a period, a time or an amount and the shown statements give
different ones (a rulebook's "at least six years" against a planted "1 year"), neither may be
presented as the answer: the answer shows the conflict, with each side's source, document,
version and date, and says which document is the more recent where the corpus dates them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from apps.assistant import relevance
from apps.assistant.citations import CheckedStatement
from apps.assistant.relevance import Focus

KINDS = {relevance.DURATION: "period", relevance.TIME: "time", relevance.AMOUNT: "amount"}


def find_conflict(
    focus: Focus, checked: Sequence[CheckedStatement], hits: Sequence[dict], dates: dict
) -> dict | None:
    """The conflict among the shown statements, or None. `hits` are the recorded sources,
    `dates` the documents' dates by document id (None where the corpus has none)."""
    kind = KINDS.get(focus.answer_type or "")
    if kind is None:
        return None
    shown = [s for s in checked if s.shown]
    claims = [(s, relevance.typed_values(focus.answer_type, s.text)) for s in shown]
    claims = [(s, values) for s, values in claims if values]
    if not any(disagree(a, b) for (_, a), (_, b) in itertools.combinations(claims, 2)):
        return None
    by_number = {hit["number"]: hit for hit in hits}
    sides = [side(s, values, by_number, dates) for s, values in claims]
    return {"kind": kind, "sides": sides, "current": most_recent(sides)}


def disagree(first: set, second: set) -> bool:
    """Two statements disagree when they give a value of the same kind (a period, a deadline,
    an amount) and share none: "at least six years" against "1 year", but not a retention
    period against a deadline to produce the records."""
    for relation in {r for r, _, _ in first} & {r for r, _, _ in second}:
        if not {v for v in first if v[0] == relation} & {v for v in second if v[0] == relation}:
            return True
    return False


def side(statement: CheckedStatement, values: set, hits: dict, dates: dict) -> dict:
    hit = hits[statement.citations[0]]
    date = dates.get(hit["document_id"])
    return {
        "values": sorted(spoken(value, unit) for _, value, unit in values),
        "statement": statement.text,
        "source": hit["number"],
        "label": hit["label"],
        "document": {
            "id": hit["document_id"],
            "external_id": hit["document_external_id"],
            "version": hit["document_version"],
            "date": date.isoformat() if date else None,
        },
    }


def most_recent(sides: list[dict]) -> int | None:
    """The source of the most recently dated document, when every side is dated and one date
    is the latest; otherwise the corpus does not say which is current."""
    dated = [(s["document"]["date"], s["source"]) for s in sides]
    if any(date is None for date, _ in dated):
        return None
    latest = max(date for date, _ in dated)
    sources = {source for date, source in dated if date == latest}
    return sources.pop() if len(sources) == 1 else None


def spoken(value: str, unit: str) -> str:
    plural = "" if value == "1" or unit in ("percent", "usd", "aed", "gbp", "eur") else "s"
    return f"{value} {unit}{plural}"
