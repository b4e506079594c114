"""How well the citation checker tells supported statements from unsupported ones.

Every verdict is support.assess's, called as the answer path calls it, on a labelled set
(checker_examples): acceptance of the supported statements and rejection of the unsupported
ones, overall and per kind, with the reasons given. A labelled file is scored as one set.

The built-in set is split in half by question. The support cut-offs are fitted on the tuning
half: the best sum of unsupported statements rejected and supported ones accepted (Youden's
J), among cut-offs that accept at least MIN_SUPPORTED_ACCEPTED of the supported ones; ties go
to the more lenient cut-off, which leaves room for paraphrase. Both halves are then scored
with the shipped cut-offs (support.FITTED), so the held-out half is the number to quote.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from apps.assistant.support import FITTED, Cutoffs, assess
from apps.evaluation.checker_examples import KINDS, Example
from apps.evaluation.metrics import latency_percentiles
from apps.evaluation.questions import progress_bar

MIN_SUPPORTED_ACCEPTED = 0.95
MIN_PER_KIND = 100  # fewer examples of a kind than this measure it too loosely to quote
SUPPORT_GRID = [round(0.50 + 0.05 * step, 2) for step in range(10)]  # 0.50 … 0.95
REVIEW_GRID = [round(0.30 + 0.05 * step, 2) for step in range(13)]  # 0.30 … 0.90


@dataclass(frozen=True)
class Verdict:
    example: Example
    supported: bool
    reason: str
    score: float

    @property
    def correct(self) -> bool:
        return self.supported == self.example.supported

    def record(self) -> dict:
        return {"id": self.example.id, "supported": self.supported, "reason": self.reason}


def judge(
    examples: Sequence[Example], stderr: TextIO | None = None
) -> tuple[list[Verdict], list[float]]:
    """Each example's verdict, in order, and the checking time of every statement made about
    one passage (an answer's worth), each passage met for the first time as in a request."""
    by_passage: dict[str, list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        by_passage[example.passage].append(index)
    verdicts: dict[int, Verdict] = {}
    latencies = []
    for indices in progress_bar(stderr, by_passage.values(), unit="passage", desc="checking"):
        started = time.perf_counter()
        for index in indices:
            example = examples[index]
            support = assess(example.statement, example.passage)
            verdicts[index] = Verdict(example, support.supported, support.reason, support.score)
        latencies.append((time.perf_counter() - started) * 1000)
    return [verdicts[index] for index in range(len(examples))], latencies


def summary(verdicts: Sequence[Verdict]) -> dict:
    supported = [v for v in verdicts if v.example.supported]
    unsupported = [v for v in verdicts if not v.example.supported]
    accepted = sum(v.supported for v in supported)
    rejected = sum(not v.supported for v in unsupported)
    return {
        "supported": len(supported),
        "accepted": share(accepted, len(supported)),
        "unsupported": len(unsupported),
        "rejected": share(rejected, len(unsupported)),
        # of the rejected statements, the share that deserved it
        "rejection_precision": share(rejected, rejected + len(supported) - accepted),
        "by_kind": by_kind(verdicts),
    }


def by_kind(verdicts: Sequence[Verdict]) -> dict[str, dict]:
    """Per kind: supported kinds count acceptances as correct, unsupported kinds rejections."""
    groups: dict[str, list[Verdict]] = defaultdict(list)
    for verdict in verdicts:
        groups[verdict.example.kind].append(verdict)
    order = [k for k in KINDS if k in groups] + sorted(set(groups) - set(KINDS))
    table = {}
    for kind in order:
        items = groups[kind]
        labels = {v.example.label for v in items}
        correct = sum(v.correct for v in items)
        table[kind] = {
            "label": labels.pop() if len(labels) == 1 else "mixed",
            "examples": len(items),
            "correct": correct,
            "rate": share(correct, len(items)),
            "reasons": dict(Counter(v.reason for v in items).most_common()),
        }
    return table


def thin_kinds(examples: Sequence[Example]) -> dict[str, int]:
    counts = Counter(example.kind for example in examples)
    return {kind: count for kind, count in sorted(counts.items()) if count < MIN_PER_KIND}


def report_for_file(examples: Sequence[Example], source: str, stderr: TextIO | None = None) -> dict:
    """The report on a labelled file: one set, scored with the shipped cut-offs."""
    verdicts, latencies = judge(examples, stderr)
    return {
        **overview(examples, source, verdicts, latencies),
        "examples": [v.record() for v in verdicts],
    }


def report_for_built(
    examples: Sequence[Example], source: str, stderr: TextIO | None = None
) -> dict:
    """The report on the built-in set: cut-offs fitted on the tuning half, and both halves
    (and each data set within them) scored with the shipped cut-offs."""
    verdicts, latencies = judge(examples, stderr)
    tune = [v for v in verdicts if v.example.split == "tune"]
    return {
        **overview(examples, source, verdicts, latencies),
        "fitted_on_tune": cutoffs_dict(fit(tune, stderr)),
        "splits": {name: split_summary(verdicts, name) for name in ("tune", "held_out")},
        "examples": [v.record() for v in verdicts],
    }


def overview(
    examples: Sequence[Example], source: str, verdicts: list[Verdict], latencies: list[float]
) -> dict:
    return {
        "source": source,
        "example_count": len(examples),
        "shipped_cutoffs": cutoffs_dict(FITTED),
        "all": summary(verdicts),
        "thin_kinds": thin_kinds(examples),
        "answer_latency_ms": latency(latencies),
    }


def split_summary(verdicts: Sequence[Verdict], split: str) -> dict:
    part = [v for v in verdicts if v.example.split == split]
    by_dataset: dict[str, list[Verdict]] = defaultdict(list)
    for verdict in part:
        by_dataset[verdict.example.dataset or "?"].append(verdict)
    return {
        "all": summary(part),
        "by_dataset": {name: summary(items) for name, items in sorted(by_dataset.items())},
    }


def fit(verdicts: Sequence[Verdict], stderr: TextIO | None = None) -> Cutoffs:
    """The cut-offs with the best J on `verdicts` (see the module docstring)."""
    varying = [v for v in verdicts if 0 < v.score < 1]
    thresholds = {
        id(v): acceptance_thresholds(v.example)
        for v in progress_bar(stderr, varying, unit="statement", desc="fitting cut-offs")
    }
    best, best_key = FITTED, (-1.0, 0.0, 0.0)
    for s_index, support_cutoff in enumerate(SUPPORT_GRID):
        for r_index, review_below in enumerate(REVIEW_GRID):
            if review_below > support_cutoff:
                continue
            accepted = {key: s_index < t[r_index] for key, t in thresholds.items()}
            supported_accepted, unsupported_rejected = rates_under(verdicts, accepted)
            if supported_accepted < MIN_SUPPORTED_ACCEPTED:
                continue
            key = (
                round(supported_accepted + unsupported_rejected, 6),
                -support_cutoff,
                -review_below,
            )
            if key > best_key:
                best, best_key = Cutoffs(support=support_cutoff, review_below=review_below), key
    return best


def acceptance_thresholds(example: Example) -> list[int]:
    """For each review cut-off, how many of the support cut-offs (lowest first) accept the
    example. A stricter cut-off of either kind never accepts more, so the accepted cut-offs
    form a staircase, traced with about len(SUPPORT_GRID) + len(REVIEW_GRID) verdicts rather
    than one per pair. (A gated verdict, score 0, and a full score, 1.0, need none: they do
    not depend on the cut-offs.)"""
    thresholds = [0] * len(REVIEW_GRID)
    accepted_below = 0
    for r_index in reversed(range(len(REVIEW_GRID))):
        while accepted_below < len(SUPPORT_GRID):
            cutoffs = Cutoffs(
                support=SUPPORT_GRID[accepted_below], review_below=REVIEW_GRID[r_index]
            )
            if not assess(example.statement, example.passage, cutoffs).supported:
                break
            accepted_below += 1
        thresholds[r_index] = accepted_below
    return thresholds


def rates_under(verdicts: Sequence[Verdict], accepted: dict[int, bool]) -> tuple[float, float]:
    """(supported accepted, unsupported rejected) when the cut-off-dependent verdicts are
    those in `accepted` and the others stay as they were."""
    supported = unsupported = accepted_count = rejected_count = 0
    for verdict in verdicts:
        verdict_supported = accepted.get(id(verdict), verdict.supported)
        if verdict.example.supported:
            supported += 1
            accepted_count += verdict_supported
        else:
            unsupported += 1
            rejected_count += not verdict_supported
    return share(accepted_count, supported) or 0.0, share(rejected_count, unsupported) or 0.0


def latency(latencies: list[float]) -> dict:
    if not latencies:
        return {"p50": None, "p95": None}
    p50, p95 = latency_percentiles(latencies)
    return {"p50": round(p50, 2), "p95": round(p95, 2)}


def cutoffs_dict(cutoffs: Cutoffs) -> dict:
    return {"support": cutoffs.support, "review_below": cutoffs.review_below}


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
