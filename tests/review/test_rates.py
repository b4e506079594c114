from __future__ import annotations

import pytest

from apps.review.rates import Rate, wilson


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [(0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (17, 100, 0.1089, 0.2555)],
)
def test_wilson_intervals(k, n, low, high):
    assert wilson(k, n) == pytest.approx((low, high), abs=1e-4)


def test_a_rate_of_nothing_has_no_value():
    assert Rate(0, 0).value is None and Rate(0, 0).interval is None
    assert Rate(1, 4).as_dict()["rate"] == 0.25
