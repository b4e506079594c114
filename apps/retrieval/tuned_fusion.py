"""The fusion retrieve() uses when the caller names none.

Each domain may have a fusion method and leg weights tuned on its dev questions by
`manage.py tune_fusion`, kept in apps/retrieval/data/fusion.json with the numbers that chose
them; a domain never tuned gets reciprocal rank fusion (k = 60) with equal leg weights. Each
searched domain keeps its own fusion (FusionPlan): over corpora of several domains, each
domain's fusion ranks all the candidates and a chunk takes the rank its own domain's fusion
gives it (fusion.own_rank_merge).
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


MIXED = "per-domain"


@dataclass(frozen=True)
class FusionPlan:
    """The fusion of each searched domain. When they all agree, that one fusion ranks every
    candidate; otherwise the plan is mixed and each chunk is ranked by its own domain's."""

    by_domain: dict[str, FusionChoice]

    @property
    def single(self) -> FusionChoice | None:
        """The one fusion every domain uses, or None when the plan is mixed."""
        choices = list(self.by_domain.values()) or [UNTUNED]
        return choices[0] if all(c == choices[0] for c in choices) else None

    def describe(self) -> str:
        if (single := self.single) is not None:
            return single.describe()
        each = "; ".join(f"{d}: {c.describe()}" for d, c in self.by_domain.items())
        return f"each domain's own fusion, merged by rank ({each})"

    def as_dict(self) -> dict:
        """{"method", "leg_weights"} for one fusion; {"method": MIXED, "domains": {domain:
        {"method", "leg_weights"}}} for a mixed plan."""
        if (single := self.single) is not None:
            return asdict(single)
        return {"method": MIXED, "domains": {d: asdict(c) for d, c in self.by_domain.items()}}


def fusion_for(domains: Collection[str]) -> FusionChoice:
    """The tuned fusion of the one domain in `domains`, else UNTUNED."""
    if len(set(domains)) != 1:
        return UNTUNED
    return tuned().get(next(iter(domains)), UNTUNED)


def plan_for(domains: Collection[str], named: FusionChoice | None = None) -> FusionPlan:
    """Each of `domains` with the fusion `named` by the caller, else its own tuned one."""
    return FusionPlan({d: named or fusion_for({d}) for d in sorted(set(domains))})


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
