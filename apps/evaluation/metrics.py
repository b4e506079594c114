"""Retrieval evaluation metrics over ranked results, with relevance judged by span overlap.

The gold of a question is a list of character spans (document id, start, end), half-open. For
a set whose gold is whole documents (pubmedqa), callers pass one span covering each gold
document. Chunk boundaries are the system's own, so several chunks may overlap one gold span
and one chunk may overlap several. `relevance_flags` turns a ranking into binary flags that
count each gold span once, which keeps MAP and nDCG in [0, 1] when `total_relevant` is the
number of gold spans; `span_recall_at_k` measures recall on the spans themselves.

Metrics are undefined for a question without gold (a CUAD abstention): those raise, and
belong in a separate abstention measure rather than in these averages.

`latency_percentiles` serves every evaluation and benchmark that reports timings.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

Span = tuple[str, int, int]


def recall_at_k(relevant_flags: Sequence[bool], total_relevant: int, k: int) -> float:
    """Share of the `total_relevant` relevant items that are flagged among the top k."""
    _check_cutoff(total_relevant, k)
    hits = sum(1 for flag in relevant_flags[:k] if flag)
    _check_hits(hits, total_relevant)
    return hits / total_relevant


def average_precision_at_k(relevant_flags: Sequence[bool], total_relevant: int, k: int) -> float:
    """AP@k: the sum of precision@i over the relevant ranks i <= k, divided by
    min(total_relevant, k), so a top k made only of relevant items scores 1."""
    _check_cutoff(total_relevant, k)
    hits = 0
    precision_sum = 0.0
    for rank, flag in enumerate(relevant_flags[:k], start=1):
        if flag:
            hits += 1
            precision_sum += hits / rank
    _check_hits(hits, total_relevant)
    return precision_sum / min(total_relevant, k)


def ndcg_at_k(relevant_flags: Sequence[bool], total_relevant: int, k: int) -> float:
    """nDCG@k with binary gains and a log2(rank + 1) discount; the ideal ranking puts
    min(total_relevant, k) relevant items first."""
    _check_cutoff(total_relevant, k)
    flags = relevant_flags[:k]
    _check_hits(sum(1 for flag in flags if flag), total_relevant)
    gain = sum(_discount(rank) for rank, flag in enumerate(flags, start=1) if flag)
    ideal = sum(_discount(rank) for rank in range(1, min(total_relevant, k) + 1))
    return gain / ideal


def reciprocal_rank(relevant_flags: Sequence[bool]) -> float:
    """1 / the rank of the first relevant item, or 0 when none is relevant."""
    for rank, flag in enumerate(relevant_flags, start=1):
        if flag:
            return 1 / rank
    return 0.0


def spans_overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """Whether the half-open ranges [a_start, a_end) and [b_start, b_end) share a character;
    an empty range overlaps nothing."""
    if a_end < a_start or b_end < b_start:
        raise ValueError(
            f"a range ends before it starts: [{a_start}, {a_end}), [{b_start}, {b_end})"
        )
    return max(a_start, b_start) < min(a_end, b_end)


def relevance_flags(retrieved: Sequence[Span], gold: Sequence[Span]) -> list[bool]:
    """One flag per retrieved chunk, in rank order: True when the chunk overlaps a gold span
    that no higher-ranked chunk overlaps.

    A second chunk on an already covered span is not rewarded, so the flags never outnumber
    the gold spans and MAP and nDCG stay in [0, 1]. A chunk that covers several new spans at
    once is still a single relevant rank: with a chunking that merges gold spans, MAP and nDCG
    computed against the number of spans cannot reach 1, while `span_recall_at_k` still can.
    """
    covered: set[int] = set()
    flags = []
    for document, start, end in retrieved:
        newly = _overlapped(document, start, end, gold) - covered
        covered |= newly
        flags.append(bool(newly))
    return flags


def span_recall_at_k(retrieved: Sequence[Span], gold: Sequence[Span], k: int) -> float:
    """Share of the gold spans overlapped by at least one of the top k retrieved chunks."""
    _check_cutoff(len(gold), k)
    covered: set[int] = set()
    for document, start, end in retrieved[:k]:
        covered |= _overlapped(document, start, end, gold)
    return len(covered) / len(gold)


def _overlapped(document: str, start: int, end: int, gold: Sequence[Span]) -> set[int]:
    return {
        index
        for index, (gold_document, gold_start, gold_end) in enumerate(gold)
        if gold_document == document and spans_overlap(start, end, gold_start, gold_end)
    }


def _discount(rank: int) -> float:
    return 1 / math.log2(rank + 1)


def _check_cutoff(total_relevant: int, k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if total_relevant < 1:
        raise ValueError(
            "the metric is undefined without relevant items (total_relevant is "
            f"{total_relevant}); leave such questions out of the average"
        )


def _check_hits(hits: int, total_relevant: int) -> None:
    if hits > total_relevant:
        raise ValueError(
            f"{hits} relevant flags but total_relevant is {total_relevant}: count each gold "
            "item once (relevance_flags does)"
        )


def latency_percentiles(samples: Sequence[float]) -> tuple[float, float]:
    """(p50, p95) of `samples`; p95 is the nearest-rank value at or below the 95th percentile."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]
