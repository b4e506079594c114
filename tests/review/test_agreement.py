from __future__ import annotations

import pytest

from apps.review.agreement import cohens_kappa


def test_kappa_matches_the_textbook_example():
    # 50 items: both yes 20, yes/no 5, no/yes 10, both no 15 -> p_o 0.7, p_e 0.5, kappa 0.4.
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    assert cohens_kappa(pairs) == pytest.approx(0.4)


def test_kappa_is_one_for_full_agreement_and_undefined_without_variety():
    assert cohens_kappa([("a", "a"), ("b", "b")]) == 1
    assert cohens_kappa([("a", "a"), ("a", "a")]) is None
    assert cohens_kappa([]) is None
