"""Choosing a domain's fusion from its dev questions (`manage.py tune_fusion`).

Every question of the tuning half (Question.split) of the given question files goes once
through query rewriting and both legs, as retrieve() runs them; each candidate fusion then
re-fuses those rankings and is scored by nDCG@k against the gold spans, as evaluate_retrieval
scores. The candidate with the best mean nDCG@k, each file weighing the same, is chosen, and
reciprocal rank fusion with equal weights stays unless a candidate beats it. The held-out half
is scored alike and reported, never used to choose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import TextIO

from apps.corpora.models import Chunk, Corpus
from apps.evaluation import metrics
from apps.evaluation.questions import (
    Question,
    bm25_index_ensure,
    corpus_for_questions,
    load_questions,
    progress_bar,
    question_filters,
)
from apps.evaluation.retrieval import score
from apps.retrieval.legs import Ranking
from apps.retrieval.search import (
    RetrievalOptions,
    bm25_leg,
    fuse,
    query_variants,
    run_legs,
)
from apps.retrieval.tuned_fusion import METHODS, UNTUNED, FusionChoice

BM25_WEIGHTS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)  # the vector leg weighs 1
CANDIDATES = tuple(
    FusionChoice(method, {"vector": 1.0, "bm25": weight})
    for method in METHODS
    for weight in BM25_WEIGHTS
)
SPLITS = ("tune", "held_out")


class TuningError(Exception):
    """Bad tuning input, with a message fit for the command line."""


@dataclass(frozen=True)
class Ranked:
    """One question's leg rankings, and the spans of the chunks they hold."""

    question: Question
    leg_rankings: dict[str, list[Ranking]]
    spans: dict[int, metrics.Span]


@dataclass(frozen=True)
class QuestionSet:
    name: str  # the question file's folder
    corpus: Corpus
    ranked: list[Ranked]

    def count(self, split: str) -> int:
        return sum(item.question.split == split for item in self.ranked)


@dataclass(frozen=True)
class Scores:
    """Mean nDCG@k of a fusion on each split, each question set weighing the same."""

    choice: FusionChoice
    ndcg: dict[str, float]  # split → mean over the sets
    per_set: dict[str, dict[str, float]]  # set → split → mean


@dataclass(frozen=True)
class Tuning:
    domain: str
    k: int
    sets: list[QuestionSet]
    scores: list[Scores]  # every candidate, the best on the tuning half first
    baseline: Scores  # UNTUNED

    @property
    def chosen(self) -> Scores:
        best = self.scores[0]
        return best if best.ndcg["tune"] > self.baseline.ndcg["tune"] else self.baseline

    def evidence(self) -> dict:
        """What fusion.json records beside the choice: what it was tuned on and how it and the
        untuned baseline scored."""
        return {
            "tuned_on": [
                f"{s.name} ({s.count('tune')} questions; {s.count('held_out')} held out)"
                for s in self.sets
            ],
            f"ndcg@{self.k}": rounded(self.chosen.ndcg),
            f"untuned_ndcg@{self.k}": rounded(self.baseline.ndcg),
        }


def rounded(ndcg: dict[str, float]) -> dict[str, float]:
    return {split: round(value, 4) for split, value in ndcg.items()}


def tune(questions_paths: Sequence[Path], *, k: int = 10, stderr: TextIO | None = None) -> Tuning:
    """Rank every question of the files once, then score every candidate fusion."""
    sets = [question_set(path, k=k, stderr=stderr) for path in questions_paths]
    domains = {s.corpus.domain for s in sets}
    if len(domains) != 1:
        names = ", ".join(f"{s.corpus.slug} ({s.corpus.domain})" for s in sets)
        raise TuningError(f"the corpora must share one domain to tune it: {names}")
    scored = sorted(
        (scores(choice, sets, k) for choice in CANDIDATES),
        key=lambda s: (-s.ndcg["tune"], CANDIDATES.index(s.choice)),
    )
    return Tuning(domains.pop(), k, sets, scored, scores(UNTUNED, sets, k))


def question_set(path: Path, *, k: int, stderr: TextIO | None) -> QuestionSet:
    questions = [q for q in load_questions(path) if q.gold]
    if not questions:
        raise TuningError(f"{path} holds no question with gold spans")
    corpus, _ = corpus_for_questions(path, stderr=stderr)
    bm25_index_ensure(corpus=corpus)
    options = RetrievalOptions(legs=("vector", "bm25"))
    bar = progress_bar(stderr, questions, unit="question", desc=f"ranking {path}")
    return QuestionSet(corpus.slug, corpus, [ranked(q, corpus, options) for q in bar])


def ranked(question: Question, corpus: Corpus, options: RetrievalOptions) -> Ranked:
    variants = query_variants(question.text, [corpus], options)
    filters = question_filters(question)
    bm25 = bm25_leg([corpus.pk], filters, options)
    leg_rankings = run_legs(variants, [corpus.pk], filters, options, bm25)
    chunk_ids = {c for rankings in leg_rankings.values() for r in rankings for c, _ in r}
    rows = Chunk.objects.filter(pk__in=chunk_ids).values_list(
        "id", "document__external_id", "char_start", "char_end"
    )
    return Ranked(question, leg_rankings, {row[0]: row[1:] for row in rows})


def scores(choice: FusionChoice, sets: Sequence[QuestionSet], k: int) -> Scores:
    per_set = {}
    for question_set in sets:
        ndcgs = {split: [] for split in SPLITS}
        for item in question_set.ranked:
            fused = fuse(item.leg_rankings, choice)[:k]
            spans = [item.spans[chunk_id] for chunk_id, _ in fused]
            ndcgs[item.question.split].append(score(item.question, spans, k, 0).ndcg)
        per_set[question_set.name] = {split: fmean(v) if v else 0.0 for split, v in ndcgs.items()}
    ndcg = {split: fmean(s[split] for s in per_set.values()) for split in SPLITS}
    return Scores(choice, ndcg, per_set)
