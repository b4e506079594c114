"""The fusion retrieve() uses when the caller names none.

Each domain may have a fusion method and leg weights tuned on its dev questions by
`manage.py tune_fusion`, kept in apps/retrieval/data/fusion.json with the numbers that chose
them. Corpora of one tuned domain get that domain's fusion; anything else (several domains, a
domain never tuned) gets reciprocal rank fusion (k = 60) with equal leg weights.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

FUSION_PATH = Path(__file__).resolve().parent / "data" / "fusion.json"
METHODS = ("rrf", "weighted")


@dataclass(frozen=True)
class FusionChoice:
    method: str  # one of METHODS
    leg_weights: dict[str, float]

    def describe(self) -> str:
        weights = ", ".join(f"{leg} {weight:g}" for leg, weight in self.leg_weights.items())
        name = "reciprocal rank fusion" if self.method == "rrf" else "weighted score fusion"
        return f"{name} ({weights})"


EQUAL_WEIGHTS = {"vector": 1.0, "bm25": 1.0}
UNTUNED = FusionChoice("rrf", EQUAL_WEIGHTS)


def fusion_for(domains: Collection[str]) -> FusionChoice:
    """The tuned fusion of the one domain in `domains`, else UNTUNED."""
    if len(set(domains)) != 1:
        return UNTUNED
    return tuned().get(next(iter(domains)), UNTUNED)


@cache
def tuned() -> dict[str, FusionChoice]:
    if not FUSION_PATH.exists():
        return {}
    entries = json.loads(FUSION_PATH.read_text(encoding="utf-8"))["domains"]
    return {
        domain: FusionChoice(entry["method"], entry["leg_weights"])
        for domain, entry in entries.items()
    }


def save(domain: str, choice: FusionChoice, evidence: dict) -> None:
    """Record `choice` for `domain`, with the `evidence` (what it was tuned on and how it
    scored), keeping the other domains' entries."""
    path = FUSION_PATH
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"domains": {}}
    data["domains"][domain] = {**asdict(choice), **evidence}
    data["domains"] = dict(sorted(data["domains"].items()))
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tuned.cache_clear()
