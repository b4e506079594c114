from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.evaluation.metrics import (
    average_precision_at_k,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
    relevance_flags,
    span_recall_at_k,
    spans_overlap,
)

FLAGS = [True, False, True, False, False]


def test_recall_counts_relevant_items_in_the_top_k():
    assert recall_at_k(FLAGS, total_relevant=3, k=5) == pytest.approx(2 / 3)
    assert recall_at_k(FLAGS, total_relevant=3, k=2) == pytest.approx(1 / 3)


def test_average_precision_divides_by_the_achievable_number_of_hits():
    # Precision 1/1 at rank 1 and 2/3 at rank 3, over min(3, 5) = 3 relevant items.
    assert average_precision_at_k(FLAGS, total_relevant=3, k=5) == pytest.approx(5 / 9)
    # Only one relevant item fits in the top 2, over min(3, 2) = 2.
    assert average_precision_at_k(FLAGS, total_relevant=3, k=2) == pytest.approx(0.5)
    assert average_precision_at_k([True, True], total_relevant=5, k=2) == 1.0


def test_ndcg_uses_binary_gains_and_a_log2_discount():
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(FLAGS, total_relevant=3, k=5) == pytest.approx(1.5 / ideal)
    assert ndcg_at_k(FLAGS, total_relevant=3, k=2) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert ndcg_at_k([False, True], total_relevant=1, k=10) == pytest.approx(1 / math.log2(3))


def test_reciprocal_rank_is_one_over_the_first_relevant_rank():
    assert reciprocal_rank([False, False, True, True]) == pytest.approx(1 / 3)
    assert reciprocal_rank([False, False]) == 0.0
    assert reciprocal_rank([]) == 0.0


def test_a_ranking_shorter_than_k_is_scored_as_is():
    assert recall_at_k([True], total_relevant=2, k=10) == 0.5
    assert average_precision_at_k([True], total_relevant=2, k=10) == 0.5


@pytest.mark.parametrize("metric", [recall_at_k, average_precision_at_k, ndcg_at_k])
def test_metrics_refuse_questions_without_gold_and_a_cutoff_below_one(metric):
    with pytest.raises(ValueError, match="undefined without relevant items"):
        metric([False], 0, 10)
    with pytest.raises(ValueError, match="k must be at least 1"):
        metric([True], 1, 0)


@pytest.mark.parametrize("metric", [recall_at_k, average_precision_at_k, ndcg_at_k])
def test_metrics_refuse_more_hits_than_relevant_items(metric):
    with pytest.raises(ValueError, match="count each gold item once"):
        metric([True, True], 1, 10)


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ((0, 5), (5, 10), False),
        ((0, 6), (5, 10), True),
        ((2, 3), (0, 10), True),
        ((5, 5), (0, 10), False),
        ((0, 10), (3, 3), False),
    ],
)
def test_spans_overlap_on_half_open_ranges(a, b, overlap):
    assert spans_overlap(*a, *b) is overlap
    assert spans_overlap(*b, *a) is overlap


def test_a_range_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="ends before it starts"):
        spans_overlap(5, 4, 0, 10)


GOLD = [("d1", 100, 200), ("d1", 300, 400)]


def test_only_the_first_chunk_on_a_gold_span_is_relevant():
    retrieved = [
        ("d1", 150, 250),  # covers the first span
        ("d1", 180, 190),  # the first span again
        ("d2", 100, 200),  # right offsets, wrong document
        ("d1", 350, 360),  # covers the second span
        ("d1", 0, 100),  # touches the first span without overlapping it
    ]
    assert relevance_flags(retrieved, GOLD) == [True, False, False, True, False]


def test_span_recall_counts_gold_spans_covered_by_the_top_k():
    retrieved = [("d1", 150, 250), ("d1", 180, 190), ("d1", 350, 360)]
    assert span_recall_at_k(retrieved, GOLD, k=2) == 0.5
    assert span_recall_at_k(retrieved, GOLD, k=3) == 1.0
    with pytest.raises(ValueError, match="undefined without relevant items"):
        span_recall_at_k(retrieved, [], k=3)


def test_a_chunk_covering_two_gold_spans_is_one_relevant_rank():
    retrieved = [("d1", 0, 1000)]
    flags = relevance_flags(retrieved, GOLD)
    assert flags == [True]
    assert span_recall_at_k(retrieved, GOLD, k=10) == 1.0
    assert average_precision_at_k(flags, len(GOLD), k=10) == 0.5


def test_a_whole_document_gold_counts_its_first_chunk():
    gold = [("p1", 0, 1500)]
    retrieved = [("p2", 0, 700), ("p1", 700, 1400), ("p1", 0, 700)]
    flags = relevance_flags(retrieved, gold)
    assert flags == [False, True, False]
    assert average_precision_at_k(flags, 1, k=10) == 0.5
    assert reciprocal_rank(flags) == 0.5


chunks = st.tuples(st.sampled_from(["d1", "d2"]), st.integers(0, 50), st.integers(0, 20)).map(
    lambda chunk: (chunk[0], chunk[1], chunk[1] + chunk[2])
)


@given(
    retrieved=st.lists(chunks, max_size=15),
    gold=st.lists(chunks, min_size=1, max_size=5),
    k=st.integers(1, 20),
)
def test_metrics_on_overlap_flags_stay_in_the_unit_interval(retrieved, gold, k):
    flags = relevance_flags(retrieved, gold)
    for metric in (recall_at_k, average_precision_at_k, ndcg_at_k):
        assert 0.0 <= metric(flags, len(gold), k) <= 1.0 + 1e-12
    assert recall_at_k(flags, len(gold), k) <= span_recall_at_k(retrieved, gold, k)
