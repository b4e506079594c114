"""Fusion of several retrieval legs (vector, BM25, query variants) into one ranking of chunk ids.

Every function returns (chunk id, fused score) pairs, best first, with ties going to the
smaller id so that the same inputs always give the same order.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], k: int = 60, weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    """Reciprocal rank fusion (Cormack et al., 2009): each leg adds weight / (k + rank) to the
    items it ranks, ranks counted from 1. An item repeated within a leg counts at its first
    rank only. Weights default to 1 per leg."""
    if not k > 0:
        raise ValueError(f"k must be positive, got {k!r}")
    leg_weights = _checked_weights([1.0] * len(rankings) if weights is None else weights, rankings)
    fused: defaultdict[int, float] = defaultdict(float)
    for ranking, weight in zip(rankings, leg_weights, strict=True):
        ranked: set[int] = set()
        for rank, item in enumerate(ranking, start=1):
            if item not in ranked:
                ranked.add(item)
                fused[item] += weight / (k + rank)
    return _best_first(fused.items())


def weighted_score_fusion(
    scored: Sequence[Mapping[int, float]], weights: Sequence[float]
) -> list[tuple[int, float]]:
    """Weighted sum of per-leg scores after min-max normalising each leg to [0, 1]. A leg whose
    scores are all equal (or that has a single score) gives each of its items 1.0; an item a
    leg did not return gets 0 from it."""
    leg_weights = _checked_weights(weights, scored)
    fused: defaultdict[int, float] = defaultdict(float)
    for leg, (scores, weight) in enumerate(zip(scored, leg_weights, strict=True)):
        for item, normalised in _min_max(scores, leg).items():
            fused[item] += weight * normalised
    return _best_first(fused.items())


def _checked_weights(weights: Sequence[float], legs: Sequence[object]) -> list[float]:
    if len(weights) != len(legs):
        raise ValueError(f"got {len(weights)} weights for {len(legs)} legs")
    for leg, weight in enumerate(weights):
        if not (math.isfinite(weight) and weight >= 0):
            raise ValueError(f"weight of leg {leg} must be finite and non-negative, got {weight}")
    return [float(weight) for weight in weights]


def _min_max(scores: Mapping[int, float], leg: int) -> dict[int, float]:
    if not all(math.isfinite(score) for score in scores.values()):
        raise ValueError(f"leg {leg} has a score that is not a finite number")
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high == low:
        return dict.fromkeys(scores, 1.0)
    return {item: (score - low) / (high - low) for item, score in scores.items()}


def _best_first(fused: Iterable[tuple[int, float]]) -> list[tuple[int, float]]:
    return sorted(fused, key=lambda pair: (-pair[1], pair[0]))


def own_rank_merge(
    rankings: Mapping[str, Sequence[tuple[int, float]]], owner: Mapping[int, str], k: int = 60
) -> list[tuple[int, float]]:
    """Items ranked by several rankings of the same candidates (one per owner: a domain and
    its fusion), each item taking its rank in its owner's ranking: scores of different fusions
    are on different scales, ranks are not. Every ranking ranks all the candidates, so an
    owner's weak items still fall behind another's strong ones. An item scores 1 / (k + that
    rank), as a single ranking scores in RRF. Items without an owner or absent from their
    owner's ranking are left out."""
    if not k > 0:
        raise ValueError(f"k must be positive, got {k!r}")
    merged = {}
    for name, ranking in rankings.items():
        for rank, (item, _) in enumerate(ranking, start=1):
            if owner.get(item) == name:
                merged.setdefault(item, 1 / (k + rank))
    return _best_first(merged.items())
