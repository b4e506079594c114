"""Error rates with their 95% intervals."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Rate:
    errors: int
    total: int

    @property
    def value(self) -> float | None:
        return self.errors / self.total if self.total else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.errors, self.total)

    def as_dict(self) -> dict:
        low, high = self.interval or (None, None)
        return {
            "errors": self.errors,
            "total": self.total,
            "rate": self.value,
            "low": low,
            "high": high,
        }


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval for k successes in n trials: it stays within [0, 1] and
    holds up for small n and rates near 0 or 1, unlike the normal approximation."""
    if n == 0:
        return None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
