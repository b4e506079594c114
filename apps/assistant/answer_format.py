"""The structured output every generator backend must produce, and its tolerant parser.

A generator's output is untrusted: it may be malformed, truncated or adversarial. Parsing never
raises; whatever cannot be read becomes a `malformed` note, and the citation checker decides
what, if anything, is shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MAX_STATEMENTS = 50

ANSWER_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "statements": {
            "type": "array",
            "maxItems": MAX_STATEMENTS,
            "items": {
                "type": "object",
                # Sources first, then the words copied from them: a model writes in this order.
                "properties": {
                    "citations": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
                    "quote": {"type": "string"},
                    "text": {"type": "string"},
                },
                "required": ["citations", "text"],
            },
        },
        "abstain": {
            "type": "object",
            "properties": {"reason": {"type": "string"}},
            "required": ["reason"],
        },
    },
    "required": ["statements"],
}


@dataclass(frozen=True)
class DraftStatement:
    """One statement as the generator wrote it, before any check."""

    text: str
    citations: tuple[int, ...]
    quote: str | None = None
    # Citation entries that were not source numbers at all ("see above", 2.5, true).
    invalid_citations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Draft:
    statements: tuple[DraftStatement, ...]
    abstain_reason: str | None = None
    malformed: str | None = None


def parse_draft(raw: str) -> Draft:
    """Read a complete generator output. Never raises."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, TypeError) as exc:
        statements = statements_in_prefix(raw or "")
        return Draft(tuple(statements), malformed=f"the output is not valid JSON ({exc})")
    if not isinstance(data, dict):
        return Draft((), malformed="the output is not a JSON object")
    statements = [s for s in map(draft_statement, list_of(data.get("statements"))) if s]
    abstain = data.get("abstain")
    reason = abstain.get("reason") if isinstance(abstain, dict) else None
    malformed = None if isinstance(data.get("statements"), list) else "no statements list"
    return Draft(
        tuple(statements[:MAX_STATEMENTS]),
        abstain_reason=reason if isinstance(reason, str) and reason.strip() else None,
        malformed=malformed,
    )


def statements_in_prefix(prefix: str) -> list[DraftStatement]:
    """The complete statement objects in a possibly unfinished output, in order; used while
    streaming and to salvage truncated output. Statements that are still being written are
    left out."""
    start = prefix.find('"statements"')
    if start < 0:
        return []
    position = prefix.find("[", start)
    if position < 0:
        return []
    decoder = json.JSONDecoder()
    found: list[DraftStatement] = []
    position += 1
    while len(found) < MAX_STATEMENTS:
        position = skip(prefix, position, " \t\r\n,")
        if position >= len(prefix) or prefix[position] != "{":
            break
        try:
            item, position = decoder.raw_decode(prefix, position)
        except json.JSONDecodeError:
            break
        statement = draft_statement(item)
        if statement:
            found.append(statement)
    return found


def skip(text: str, position: int, characters: str) -> int:
    while position < len(text) and text[position] in characters:
        position += 1
    return position


def list_of(value) -> list:
    return value if isinstance(value, list) else []


def draft_statement(item) -> DraftStatement | None:
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        return None
    text = item["text"].strip()
    if not text:
        return None
    citations, invalid = [], []
    for entry in list_of(item.get("citations")):
        number = source_number(entry)
        if number is None:
            invalid.append(repr(entry))
        elif number not in citations:
            citations.append(number)
    quote = item.get("quote")
    return DraftStatement(
        text=text,
        citations=tuple(citations),
        quote=quote if isinstance(quote, str) and quote.strip() else None,
        invalid_citations=tuple(invalid),
    )


def source_number(entry) -> int | None:
    if isinstance(entry, bool):
        return None
    if isinstance(entry, int):
        return entry
    if isinstance(entry, str) and entry.strip().strip("[]").isdigit():
        return int(entry.strip().strip("[]"))
    return None
