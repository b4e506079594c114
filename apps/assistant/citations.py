"""The citation checker: deterministic, no model judging its own output.

A statement is shown only if it cites at least one source, every cited number is a source
retrieved for this question from a corpus the asker may read, its quote (if any) appears
verbatim in that source, and every cited source supports it (apps.assistant.support).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from apps.assistant.answer_format import DraftStatement
from apps.assistant.injection import without_instructions
from apps.assistant.prompts import Source
from apps.assistant.support import assess, squash

# Reason codes, for a statement and for each of its citations.
SUPPORTED = "supported"
NO_CITATION = "no_citation"
INVALID_CITATION = "invalid_citation"
UNKNOWN_SOURCE = "unknown_source"
UNREADABLE_SOURCE = "unreadable_source"
QUOTE_NOT_FOUND = "quote_not_found"
UNSUPPORTED_BY_SOURCE = "unsupported_by_source"  # the statement fails because a citation did

REASONS = {
    SUPPORTED: "the cited passage supports the statement",
    NO_CITATION: "the statement cites no source",
    INVALID_CITATION: "a citation is not a source number",
    UNKNOWN_SOURCE: "the cited number is not one of the sources retrieved for this question",
    UNREADABLE_SOURCE: "the cited source is in a corpus the asker may not read",
    QUOTE_NOT_FOUND: "the quote does not appear verbatim in the cited passage",
    UNSUPPORTED_BY_SOURCE: "a cited passage does not support the statement",
    # from apps.assistant.support
    "number_missing": "a number or date in the statement is not in the cited passage",
    "negation_mismatch": "the statement and the cited passage differ in negation",
    "entity_missing": "a named party or entity in the statement is not in the cited passage",
    "weak_support": "the cited passage does not cover the statement's content",
}


@dataclass(frozen=True)
class CitationVerdict:
    source: int
    supported: bool
    reason: str
    score: float | None = None


@dataclass(frozen=True)
class CheckedStatement:
    text: str
    citations: tuple[int, ...]
    quote: str | None
    verdicts: tuple[CitationVerdict, ...]
    shown: bool
    reason: str


def check(
    statements: Sequence[DraftStatement],
    sources: Sequence[Source],
    readable_corpora: Collection[str],
) -> list[CheckedStatement]:
    """A verdict for every statement and every citation; `shown` only when all of them hold."""
    by_number = {source.number: source for source in sources}
    readable = set(readable_corpora)
    return [check_statement(s, by_number, readable) for s in statements]


def check_statement(
    statement: DraftStatement, sources: dict[int, Source], readable: set[str]
) -> CheckedStatement:
    verdicts = tuple(cite(statement, number, sources, readable) for number in statement.citations)
    if statement.invalid_citations:
        reason = INVALID_CITATION
    elif not statement.citations:
        reason = NO_CITATION
    else:
        failed = next((v for v in verdicts if not v.supported), None)
        reason = SUPPORTED if failed is None else failed.reason
    return CheckedStatement(
        text=statement.text,
        citations=statement.citations,
        quote=statement.quote,
        verdicts=verdicts,
        shown=reason == SUPPORTED,
        reason=reason,
    )


def cite(
    statement: DraftStatement, number: int, sources: dict[int, Source], readable: set[str]
) -> CitationVerdict:
    source = sources.get(number)
    if source is None:
        return CitationVerdict(number, False, UNKNOWN_SOURCE)
    if source.hit.corpus not in readable:
        return CitationVerdict(number, False, UNREADABLE_SOURCE)
    passage = without_instructions(source.hit.text)
    if statement.quote is not None and not quote_in(statement.quote, passage):
        return CitationVerdict(number, False, QUOTE_NOT_FOUND)
    support = assess(statement.text, passage)
    return CitationVerdict(number, support.supported, support.reason, support.score)


def quote_in(quote: str, passage: str) -> bool:
    return squash(quote) in squash(passage)
