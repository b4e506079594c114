"""Answers as plain data: the stored record of each hit and statement, and the one shape the
answer API, its event stream and the ask page all show."""

from __future__ import annotations

import re
from typing import Any

from apps.assistant.citations import REASONS, CheckedStatement
from apps.assistant.prompts import Source

EXCERPT_CHARS = 600


def hit_record(source: Source) -> dict[str, Any]:
    hit = source.hit
    return {
        "number": source.number,
        "label": source.label,
        "chunk_id": hit.chunk_id,
        "corpus": hit.corpus,
        "document_id": hit.document_id,
        "document_external_id": hit.document_external_id,
        "document_version": hit.document_version,
        "heading_path": list(hit.heading_path),
        "text": hit.text,
        "char_start": hit.char_start,
        "char_end": hit.char_end,
        "page_start": hit.page_start,
        "page_end": hit.page_end,
        "content_hash": hit.content_hash,
        "fused_rank": hit.fused_rank,
        "fused_score": hit.fused_score,
        "legs": {leg: {"score": s.score, "rank": s.rank} for leg, s in hit.legs.items()},
    }


def statement_record(statement: CheckedStatement) -> dict[str, Any]:
    return {
        "text": statement.text,
        "citations": list(statement.citations),
        "quote": statement.quote,
        "shown": statement.shown,
        "reason": statement.reason,
        "verdicts": [
            {"source": v.source, "supported": v.supported, "reason": v.reason, "score": v.score}
            for v in statement.verdicts
        ],
    }


def withheld_notice(reason: str) -> str:
    return f"[text withheld: {reason}]"


def source_as_dict(hit: dict[str, Any], withheld: dict[int, str] | None = None) -> dict[str, Any]:
    return {
        "number": hit["number"],
        "label": hit["label"],
        "corpus": hit["corpus"],
        "document": document_ref(hit),
        "heading_path": hit["heading_path"],
        "char_start": hit["char_start"],
        "char_end": hit["char_end"],
        "page_start": hit["page_start"],
        "page_end": hit["page_end"],
        "excerpt": "" if hit["number"] in (withheld or {}) else hit["text"][:EXCERPT_CHARS],
    }


def statement_as_dict(
    statement: dict[str, Any], hits: list[dict[str, Any]], withheld: dict[int, str] | None = None
) -> dict[str, Any]:
    """A shown statement with each citation resolved to its passage and verdict. A statement
    resting on a passage the reader may not read shows only its citations' labels and why."""
    by_number = {hit["number"]: hit for hit in hits}
    reasons = [withheld[n] for n in statement["citations"] if n in (withheld or {})]
    citations = [
        citation_as_dict(verdict, by_number[verdict["source"]], statement["quote"])
        for verdict in statement["verdicts"]
    ]
    if reasons:
        for citation in citations:
            citation["excerpt"] = ""
    return {
        "text": withheld_notice(reasons[0]) if reasons else statement["text"],
        "citations": citations,
    }


def citation_as_dict(verdict: dict, hit: dict[str, Any], quote: str | None) -> dict[str, Any]:
    start, end = quote_span(hit["text"], quote) if quote else (0, len(hit["text"]))
    return {
        "number": hit["number"],
        "label": hit["label"],
        "corpus": hit["corpus"],
        "document": document_ref(hit),
        # The cited characters in the document: the quote where there is one, else the passage.
        "char_start": hit["char_start"] + start,
        "char_end": hit["char_start"] + end,
        "excerpt": hit["text"][start:end][:EXCERPT_CHARS],
        "verdict": {
            "supported": verdict["supported"],
            "reason": verdict["reason"],
            "explanation": REASONS.get(verdict["reason"], verdict["reason"]),
            "score": verdict["score"],
        },
    }


def quote_span(passage: str, quote: str) -> tuple[int, int]:
    pattern = r"\s+".join(re.escape(word) for word in quote.split())
    match = re.search(pattern, passage)
    return (match.start(), match.end()) if match else (0, len(passage))


def document_ref(hit: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": hit["document_id"],
        "external_id": hit["document_external_id"],
        "version": hit["document_version"],
    }


def answer_as_dict(answer, withheld: dict[int, str] | None = None) -> dict[str, Any]:
    """The answer as its reader may see it: `withheld` maps the sources whose text they may
    not read (assistant.selectors.answer_withheld) to the reason; None shows everything."""
    shown = answer.shown_statements
    return {
        "id": answer.pk,
        "question": answer.question,
        "status": answer.status,
        "corpora": answer.corpora,
        "statements": [statement_as_dict(s, answer.hits, withheld) for s in shown],
        "abstain": {"reason": answer.abstain_reason} if answer.abstain_reason else None,
        "conflict": conflict_as_dict(answer.conflict, withheld),
        "dropped": [
            {
                "reason": s["reason"],
                "explanation": REASONS.get(s["reason"], s["reason"]),
                "citations": s["citations"],
            }
            for s in answer.statements
            if not s["shown"]
        ],
        "sources": [source_as_dict(hit, withheld) for hit in answer.hits],
        "backend": answer.backend,
        "model": answer.model,
        "adapter": answer.adapter or None,
        "error": answer.error or None,
        "timings": answer.timings,
        "created_at": answer.created_at.isoformat(),
    }


def conflict_as_dict(conflict: dict | None, withheld: dict[int, str] | None) -> dict | None:
    if not conflict or not withheld:
        return conflict
    sides = [
        {**side, "statement": withheld_notice(withheld[side["source"]])}
        if side["source"] in withheld
        else side
        for side in conflict["sides"]
    ]
    return {**conflict, "sides": sides}
