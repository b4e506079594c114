"""Agreement between two reviewers: Cohen's kappa over the labels they both gave."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def cohens_kappa(pairs: Sequence[tuple[str, str]]) -> float | None:
    """κ = (p_o − p_e) / (1 − p_e) over (first reviewer's label, second's) pairs; None when
    there are no pairs or chance agreement is certain (both used one same label only)."""
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[label] * second[label] for label in first) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)
