"""Optional cross-encoder reranking of the fused top candidates (off unless a model is given)."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apps.retrieval.search import Hit


@functools.cache
def cross_encoder(path: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import CrossEncoder

    return CrossEncoder(path, device="cpu")


def rerank(query: str, hits: Sequence[Hit], model_path: str, top: int) -> list[Hit]:
    """Reorder the first `top` hits by a local cross-encoder's relevance score."""
    head, tail = list(hits[:top]), list(hits[top:])
    if not head:
        return tail
    scores = cross_encoder(model_path).predict(
        [(query, hit.text) for hit in head], show_progress_bar=False
    )
    scored = [
        dataclasses.replace(hit, rerank_score=float(score))
        for hit, score in zip(head, scores, strict=True)
    ]
    scored.sort(key=lambda hit: -hit.rerank_score)
    return scored + tail
