"""Hits and the fusion that ranked them as plain data, in the one shape the search API and the
search command both print."""

from __future__ import annotations

from typing import Any

from apps.retrieval.search import Hit, LegScore


def hit_as_dict(hit: Hit) -> dict[str, Any]:
    return {
        "chunk_id": hit.chunk_id,
        "corpus": hit.corpus,
        "document": {
            "id": hit.document_id,
            "external_id": hit.document_external_id,
            "version": hit.document_version,
            "citation_label": hit.citation_label,
            "title": hit.document_title,
        },
        "heading_path": list(hit.heading_path),
        "text": hit.text,
        "char_start": hit.char_start,
        "char_end": hit.char_end,
        "page_start": hit.page_start,
        "page_end": hit.page_end,
        "content_hash": hit.content_hash,
        "scores": {
            "vector": leg_score_as_dict(hit.legs.get("vector")),
            "bm25": leg_score_as_dict(hit.legs.get("bm25")),
            "fused": {"score": hit.fused_score, "rank": hit.fused_rank},
            "rerank": hit.rerank_score,
        },
    }


def leg_score_as_dict(score: LegScore | None) -> dict[str, Any] | None:
    return None if score is None else {"score": score.score, "rank": score.rank}
