"""How well the citation checker tells faithful statements from corrupted ones.

The labelled set (apps.evaluation.checker_examples) is split in half by question. The support
cut-offs are fitted on the tuning half: the best sum of corrupted statements rejected and
faithful ones accepted (Youden's J), among cut-offs that accept at least MIN_FAITHFUL_ACCEPTED
of the faithful ones; ties go to the more lenient cut-off, which leaves room for paraphrase.
Both halves are then scored with the shipped cut-offs (support.FITTED), so the held-out
half is the number to quote.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from apps.assistant import support
from apps.assistant.sentences import sentences
from apps.evaluation.checker_examples import Example
from apps.evaluation.metrics import latency_percentiles

MIN_FAITHFUL_ACCEPTED = 0.95
SUPPORT_GRID = [round(0.50 + 0.05 * step, 2) for step in range(10)]  # 0.50 … 0.95
REVIEW_GRID = [round(0.30 + 0.05 * step, 2) for step in range(13)]  # 0.30 … 0.90


@dataclass
class Scores:
    """Rejection counts for one slice of the labelled set."""

    faithful: int = 0
    faithful_accepted: int = 0
    corrupted: int = 0
    corrupted_rejected: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def add(self, example: Example, supported: bool) -> None:
        counts = self.by_kind[example.kind]
        counts[1] += 1
        if example.faithful:
            self.faithful += 1
            self.faithful_accepted += supported
            counts[0] += supported
        else:
            self.corrupted += 1
            self.corrupted_rejected += not supported
            counts[0] += not supported

    @property
    def rejection_recall(self) -> float:
        """Corrupted statements rejected, of all corrupted statements."""
        return self.corrupted_rejected / self.corrupted if self.corrupted else 0.0

    @property
    def rejection_precision(self) -> float:
        """Corrupted statements, of all rejected statements."""
        rejected = self.corrupted_rejected + self.faithful - self.faithful_accepted
        return self.corrupted_rejected / rejected if rejected else 0.0

    @property
    def faithful_acceptance(self) -> float:
        return self.faithful_accepted / self.faithful if self.faithful else 0.0

    def as_dict(self) -> dict:
        return {
            "faithful": self.faithful,
            "corrupted": self.corrupted,
            "faithful_accepted": round(self.faithful_acceptance, 4),
            "rejection_recall": round(self.rejection_recall, 4),
            "rejection_precision": round(self.rejection_precision, 4),
            # faithful kinds: share accepted; corrupted kinds: share rejected
            "by_kind": {
                kind: {"correct": correct, "of": total, "rate": round(correct / total, 4)}
                for kind, (correct, total) in sorted(self.by_kind.items())
            },
        }


@dataclass(frozen=True)
class Scored:
    """An example's evidence for each of its sentences (support.assess judges each sentence as
    a claim), computed once and judged under any cut-offs."""

    example: Example
    claims: tuple[tuple[support.Evidence, float | None], ...]  # (evidence, similarity)

    def supported(self, cutoffs: support.Cutoffs) -> bool:
        return all(claim_supported(e, similarity, cutoffs) for e, similarity in self.claims)


def claim_supported(
    evidence: support.Evidence, similarity: float | None, cutoffs: support.Cutoffs
) -> bool:
    if evidence.gate:
        return False
    score = evidence.coverage
    if support.reviewable(score, cutoffs) and similarity is not None:
        score = support.blend(score, similarity, cutoffs)
    return score >= cutoffs.support


def score_examples(examples: Sequence[Example]) -> list[Scored]:
    scored = []
    for example in examples:
        claims = []
        for claim in sentences(support.claim(example.statement)) or [example.statement]:
            evidence = support.gather(claim, example.passage)
            needs_similarity = not evidence.gate and evidence.coverage < max(SUPPORT_GRID)
            similarity = support.similarity(claim, evidence.anchor) if needs_similarity else None
            claims.append((evidence, similarity))
        scored.append(Scored(example, tuple(claims)))
    return scored


def fit(scored: Sequence[Scored]) -> support.Cutoffs:
    """The cut-offs with the best J on `scored` (see the module docstring)."""
    best, best_key = support.FITTED, (-1.0, 0.0, 0.0)
    for support_cutoff in SUPPORT_GRID:
        for review_below in (r for r in REVIEW_GRID if r <= support_cutoff):
            cutoffs = support.Cutoffs(support=support_cutoff, review_below=review_below)
            scores = tally(scored, cutoffs)
            if scores.faithful_acceptance < MIN_FAITHFUL_ACCEPTED:
                continue
            j = scores.rejection_recall + scores.faithful_acceptance
            key = (round(j, 6), -support_cutoff, -review_below)
            if key > best_key:
                best, best_key = cutoffs, key
    return best


def tally(scored: Sequence[Scored], cutoffs: support.Cutoffs) -> Scores:
    scores = Scores()
    for item in scored:
        scores.add(item.example, item.supported(cutoffs))
    return scores


def answer_latencies_ms(examples: Sequence[Example]) -> list[float]:
    """Checking time per answer, an answer being every statement made about one passage,
    from a cold passage cache as in a fresh request."""
    by_question: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_question[example.question_id].append(example)
    latencies = []
    for group in by_question.values():
        support.passage_profile.cache_clear()
        started = time.perf_counter()
        for example in group:
            support.assess(example.statement, example.passage)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def report(examples: Sequence[Example]) -> dict:
    scored = score_examples(examples)
    tune = [s for s in scored if s.example.split == "tune"]
    fitted = fit(tune)
    p50, p95 = latency_percentiles(answer_latencies_ms(examples))
    splits = {}
    for name in ("tune", "held_out"):
        part = [s for s in scored if s.example.split == name]
        by_dataset = defaultdict(list)
        for item in part:
            by_dataset[item.example.dataset].append(item)
        splits[name] = {
            "all": tally(part, support.FITTED).as_dict(),
            "by_dataset": {
                dataset: tally(items, support.FITTED).as_dict()
                for dataset, items in sorted(by_dataset.items())
            },
        }
    return {
        "examples": len(examples),
        "shipped_cutoffs": cutoffs_dict(support.FITTED),
        "fitted_on_tune": cutoffs_dict(fitted),
        "splits": splits,
        "answer_latency_ms": {"p50": round(p50, 2), "p95": round(p95, 2)},
    }


def cutoffs_dict(cutoffs: support.Cutoffs) -> dict:
    return {"support": cutoffs.support, "review_below": cutoffs.review_below}
