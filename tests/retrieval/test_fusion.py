from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.retrieval.fusion import own_rank_merge, reciprocal_rank_fusion, weighted_score_fusion


def test_reciprocal_rank_fusion_worked_example():
    # Item 1: 1/61 + 1/62; item 3: 1/63 + 1/61; item 2: 1/62.
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 1]], k=60)
    assert [item for item, _ in fused] == [1, 3, 2]
    assert [score for _, score in fused] == pytest.approx(
        [0.032522474881015334, 0.032266458495966696, 0.016129032258064516]
    )


def test_reciprocal_rank_fusion_weights_each_leg():
    # Item 1: 1/2 + 3/3 = 1.5; item 2: 1/3 + 3/2 = 1.8333.
    fused = reciprocal_rank_fusion([[1, 2], [2, 1]], k=1, weights=[1, 3])
    assert fused == [(2, pytest.approx(11 / 6)), (1, pytest.approx(1.5))]


def test_ties_go_to_the_smaller_id():
    assert [item for item, _ in reciprocal_rank_fusion([[5, 4], [4, 5]])] == [4, 5]


def test_an_item_repeated_in_a_leg_counts_at_its_first_rank():
    assert reciprocal_rank_fusion([[7, 7, 8]], k=1) == [(7, 0.5), (8, 0.25)]


def test_no_legs_fuse_to_nothing():
    assert reciprocal_rank_fusion([]) == []
    assert weighted_score_fusion([], []) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "k must be positive"),
        ({"k": -5}, "k must be positive"),
        ({"k": math.nan}, "k must be positive"),
        ({"weights": [1.0]}, "1 weights for 2 legs"),
        ({"weights": [1.0, -0.5]}, "weight of leg 1"),
        ({"weights": [1.0, math.inf]}, "weight of leg 1"),
    ],
)
def test_reciprocal_rank_fusion_checks_its_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        reciprocal_rank_fusion([[1], [2]], **kwargs)


def test_weighted_score_fusion_worked_example():
    # Leg A normalises to {1: 1, 2: 0.5, 3: 0}, leg B to {2: 1, 4: 0}.
    fused = weighted_score_fusion([{1: 10.0, 2: 5.0, 3: 0.0}, {2: 0.9, 4: 0.1}], [0.5, 1.0])
    assert fused == [(2, 1.25), (1, 0.5), (3, 0.0), (4, 0.0)]


def test_a_leg_with_one_or_equal_scores_normalises_to_one():
    assert weighted_score_fusion([{3: -2.0}], [2.0]) == [(3, 2.0)]
    assert weighted_score_fusion([{3: 0.4, 1: 0.4}], [1.0]) == [(1, 1.0), (3, 1.0)]


@pytest.mark.parametrize(
    ("scored", "weights", "message"),
    [
        ([{1: 1.0}], [], "0 weights for 1 legs"),
        ([{1: 1.0}], [-1.0], "weight of leg 0"),
        ([{1: 1.0}, {1: math.nan}], [1.0, 1.0], "leg 1 has a score"),
    ],
)
def test_weighted_score_fusion_checks_its_arguments(scored, weights, message):
    with pytest.raises(ValueError, match=message):
        weighted_score_fusion(scored, weights)


ids = st.integers(min_value=0, max_value=40)
rankings = st.lists(st.lists(ids, max_size=12), max_size=5)
positive_weight = st.floats(min_value=0.1, max_value=10)


@given(top=ids, legs=st.lists(st.lists(ids, max_size=12), min_size=1, max_size=5), data=st.data())
def test_an_item_every_leg_ranks_first_is_fused_first(top, legs, data):
    legs = [[top, *(item for item in leg if item != top)] for leg in legs]
    weights = data.draw(st.lists(positive_weight, min_size=len(legs), max_size=len(legs)))
    assert (
        reciprocal_rank_fusion(legs, k=data.draw(st.integers(1, 100)), weights=weights)[0][0] == top
    )


@given(legs=rankings)
def test_reciprocal_rank_fusion_orders_the_union(legs):
    fused = reciprocal_rank_fusion(legs)
    assert sorted(item for item, _ in fused) == sorted({item for leg in legs for item in leg})
    assert fused == sorted(fused, key=lambda pair: (-pair[1], pair[0]))


@given(
    scored=st.lists(
        st.dictionaries(ids, st.floats(min_value=-1e6, max_value=1e6), max_size=12), max_size=5
    ),
    data=st.data(),
)
def test_weighted_score_fusion_orders_the_union_with_scores_in_range(scored, data):
    weights = data.draw(st.lists(positive_weight, min_size=len(scored), max_size=len(scored)))
    fused = weighted_score_fusion(scored, weights)
    assert sorted(item for item, _ in fused) == sorted({item for leg in scored for item in leg})
    assert fused == sorted(fused, key=lambda pair: (-pair[1], pair[0]))
    assert all(0 <= score <= sum(weights) + 1e-9 for _, score in fused)


def scored(*items: int) -> list[tuple[int, float]]:
    # Scores on a scale of their own, as weighted and RRF scores are: only the order counts.
    return [(item, 100.0 - rank) for rank, item in enumerate(items)]


def test_each_item_takes_its_rank_in_its_owners_ranking():
    # legal ranks 1 (legal) over 2 (medical); medical ranks 2 over 1. Each is first in its own.
    # 3 (legal) is third for legal, 4 (medical) second for medical.
    rankings = {"legal": scored(1, 2, 3, 4), "medical": scored(2, 4, 1, 3)}
    owner = {1: "legal", 2: "medical", 3: "legal", 4: "medical"}

    merged = own_rank_merge(rankings, owner, k=60)

    assert [item for item, _ in merged][2:] == [4, 3]
    assert [score for _, score in merged] == pytest.approx([1 / 61, 1 / 61, 1 / 62, 1 / 63])


def test_a_weak_item_of_one_owner_falls_behind_the_strong_items_of_another():
    # Both rankings place the regulatory items first: the legal item ranks third in its own.
    rankings = {"regulatory": scored(10, 11, 12), "legal": scored(10, 11, 12)}
    owner = {10: "regulatory", 11: "regulatory", 12: "legal"}

    assert [item for item, _ in own_rank_merge(rankings, owner)] == [10, 11, 12]


def test_items_at_the_same_rank_go_to_the_smaller_id():
    rankings = {"legal": scored(2, 1, 3), "medical": scored(1, 3, 2)}
    owner = {1: "medical", 2: "legal", 3: "legal"}

    assert own_rank_merge(rankings, owner, k=1) == [(1, 0.5), (2, 0.5), (3, 0.25)]


def test_items_without_an_owner_or_a_rank_are_left_out():
    merged = own_rank_merge({"legal": scored(1, 2)}, {1: "legal", 3: "legal", 2: "medical"})
    assert [item for item, _ in merged] == [1]


@given(ranking=st.lists(ids, unique=True, max_size=12), data=st.data())
def test_owners_that_rank_alike_merge_to_that_ranking(ranking, data):
    owners = {item: data.draw(st.sampled_from(["legal", "medical"])) for item in ranking}
    rankings = {"legal": scored(*ranking), "medical": scored(*ranking)}

    assert [item for item, _ in own_rank_merge(rankings, owners)] == ranking
