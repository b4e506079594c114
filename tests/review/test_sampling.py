from __future__ import annotations

import pytest

from apps.review.sampling import allocate, stratified_sample


@pytest.mark.parametrize(
    ("sizes", "n", "expected"),
    [
        ({"a": 50, "b": 30, "c": 20}, 10, {"a": 5, "b": 3, "c": 2}),
        ({"a": 90, "b": 9, "c": 1}, 10, {"a": 8, "b": 1, "c": 1}),  # every stratum is seen
        ({"a": 5, "b": 5}, 3, {"a": 2, "b": 1}),
        ({"a": 2, "b": 1}, 10, {"a": 2, "b": 1}),  # never more than there is
        ({"a": 10, "b": 10, "c": 10}, 2, {"a": 1, "b": 1, "c": 0}),
    ],
)
def test_allocation_is_proportional_and_sees_every_stratum(sizes, n, expected):
    assert allocate(sizes, n) == expected


def test_the_same_seed_draws_the_same_sample_whatever_the_order_of_the_ids():
    strata = {("a", "x"): list(range(100)), ("b", "x"): list(range(100, 130))}
    shuffled = {key: list(reversed(ids)) for key, ids in reversed(strata.items())}
    first, counts = stratified_sample(strata, 13, seed=7)
    assert stratified_sample(shuffled, 13, seed=7) == (first, counts)
    assert stratified_sample(strata, 13, seed=8)[0] != first
    assert counts == {("a", "x"): 10, ("b", "x"): 3} and len(set(first)) == 13
    assert sum(i >= 100 for i in first) == 3
