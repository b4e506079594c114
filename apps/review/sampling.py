"""Stratified random sampling: pure functions, reproducible from a seed."""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping, Sequence


def allocate(sizes: Mapping[Hashable, int], n: int) -> dict[Hashable, int]:
    """How many to draw from each stratum: proportional to its size (largest remainders),
    at least one from every stratum while n allows, never more than a stratum holds."""
    total = sum(sizes.values())
    n = min(n, total)
    if not n:
        return dict.fromkeys(sizes, 0)
    keys = sorted(sizes, key=repr)
    floor = 1 if n >= len(keys) else 0
    shares = {key: n * sizes[key] / total for key in keys}
    taken = {key: min(sizes[key], max(floor, int(shares[key]))) for key in keys}
    order = sorted(keys, key=lambda key: (-(shares[key] - int(shares[key])), repr(key)))
    while sum(taken.values()) < n:
        for key in order:
            if sum(taken.values()) < n and taken[key] < sizes[key]:
                taken[key] += 1
    while sum(taken.values()) > n:  # the floor of one each overshot: take back from the largest
        key = max((k for k in keys if taken[k] > floor), key=lambda k: (taken[k], repr(k)))
        taken[key] -= 1
    return taken


def stratified_sample(
    strata: Mapping[Hashable, Sequence[int]], n: int, seed: int
) -> tuple[list[int], dict[Hashable, int]]:
    """Draw `n` ids from `strata` (key -> ids): the same strata, n and seed give the same ids,
    whatever order the ids came in."""
    rng = random.Random(seed)
    counts = allocate({key: len(ids) for key, ids in strata.items()}, n)
    drawn: list[int] = []
    for key in sorted(strata, key=repr):
        drawn.extend(rng.sample(sorted(strata[key]), counts[key]))
    return drawn, counts
