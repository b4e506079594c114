"""Does a passage support a statement? Placeholder: exact containment only, until the
calibrated scorer lands."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Support:
    supported: bool
    reason: str
    score: float


def assess(statement: str, passage: str) -> Support:
    contained = re.sub(r"\s+", " ", statement).strip() in re.sub(r"\s+", " ", passage)
    return Support(contained, "supported" if contained else "weak_support", float(contained))
