"""The citation checker: deterministic, no model judging its own output.

A statement is shown only if it cites at least one source, every cited number is a source
retrieved for this question from a corpus the asker may read, its quote (if any) appears
verbatim in that source, every cited source supports it (apps.assistant.support), and it
addresses the question asked (apps.assistant.relevance): its cited passages mention what the
question is about, and it holds the kind of answer the question wants.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from apps.assistant import injection, meaning, relevance, sentences, subjects, support
from apps.assistant.answer_format import DraftStatement
from apps.assistant.injection import without_instructions
from apps.assistant.prompts import Source
from apps.assistant.relevance import Focus
from apps.assistant.support import assess, squash

# Reason codes, for a statement and for each of its citations.
SUPPORTED = "supported"
NO_CITATION = "no_citation"
INVALID_CITATION = "invalid_citation"
UNKNOWN_SOURCE = "unknown_source"
UNREADABLE_SOURCE = "unreadable_source"
QUOTE_NOT_FOUND = "quote_not_found"
UNSUPPORTED_BY_SOURCE = "unsupported_by_source"  # the statement fails because a citation did
OFF_TOPIC = "off_topic"
NO_ANSWER = "no_answer"

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
    "modality_mismatch": "the statement and the cited passage differ in what is required, "
    "permitted or prohibited",
    "time_mismatch": "the statement and the cited passage differ in a time relation "
    "(before, after, within, until)",
    "quantity_mismatch": "the statement and the cited passage differ in a comparison or "
    "quantity (at least, at most, all, some, more, less)",
    "unit_mismatch": "a number in the statement carries another unit than in the cited passage",
    "role_swap": "the statement swaps who does what to whom in the cited passage",
    # from apps.assistant.relevance
    OFF_TOPIC: "the cited passage does not address what the question asks about",
    NO_ANSWER: "the statement does not give the kind of answer the question asks for",
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


@cache
def checker_version() -> dict:
    """The checker's version: a hash of its code, with its cut-offs, so that every answer says
    which checker judged it."""
    modules = (sys.modules[__name__], support, meaning, relevance, subjects, sentences, injection)
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module.__file__).read_bytes())
    cutoffs = {
        **asdict(support.FITTED),
        "ubiquitous": relevance.UBIQUITOUS,
        "verdict_terms": relevance.VERDICT_TERMS,
        "few_chunks": relevance.FEW_CHUNKS,
    }
    digest.update(repr(sorted(cutoffs.items())).encode())
    return {"version": f"sha256:{digest.hexdigest()[:16]}", "cutoffs": cutoffs}


def check(
    statements: Sequence[DraftStatement],
    sources: Sequence[Source],
    readable_corpora: Collection[str],
    focus: Focus | None = None,
) -> list[CheckedStatement]:
    """A verdict for every statement and every citation; `shown` only when all of them hold
    and, given the question's focus, the statement addresses it."""
    by_number = {source.number: source for source in sources}
    readable = set(readable_corpora)
    return [check_statement(s, by_number, readable, focus) for s in statements]


def check_statement(
    statement: DraftStatement,
    sources: dict[int, Source],
    readable: set[str],
    focus: Focus | None = None,
) -> CheckedStatement:
    verdicts = tuple(cite(statement, number, sources, readable) for number in statement.citations)
    if statement.invalid_citations:
        reason = INVALID_CITATION
    elif not statement.citations:
        reason = NO_CITATION
    else:
        failed = next((v for v in verdicts if not v.supported), None)
        reason = SUPPORTED if failed is None else failed.reason
    if reason == SUPPORTED and focus is not None:
        reason = relevance_reason(statement, [sources[n] for n in statement.citations], focus)
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


def relevance_reason(statement: DraftStatement, cited: list[Source], focus: Focus) -> str:
    context = "\n".join(source.context for source in cited)
    if relevance.missing_subjects(focus, context):
        return OFF_TOPIC
    if not relevance.carries_answer(focus, statement.text):
        return OFF_TOPIC if focus.answer_type in relevance.DECIDED else NO_ANSWER
    return SUPPORTED


def quote_in(quote: str, passage: str) -> bool:
    """The quote is in the passage, spacing and the kind of quotation marks aside."""
    return squash(quote) in squash(passage)
