"""Retrieval evaluation on a question file in the shared format (shared/data/README.md).

Evaluation is an internal operation with no asker: it reads the evaluated corpus directly,
passing that corpus to retrieve() as the readable set, so no user, role or grant takes part.
Run it only from the command line or other trusted code, never on behalf of a request.

Other corpora may be searched beside it (`also_search`), as by someone who reads several: they
compete for the top k, while gold stays in the evaluated corpus. Their hits are named
"corpus/document", so that a document id they happen to share with the set is never gold.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from apps.corpora.models import Corpus
from apps.evaluation import metrics
from apps.evaluation.questions import (
    EvaluationError,
    Question,
    active_hashes,
    bm25_index_ensure,
    corpus_by_slug,
    corpus_for_questions,
    load_questions,
    progress_bar,
    question_filters,
)
from apps.retrieval.search import MAX_K, Hit, RetrievalOptions, fusion_plan, retrieve

CONFIGURATIONS: dict[str, RetrievalOptions] = {
    "vector": RetrievalOptions(legs=("vector",)),
    "bm25": RetrievalOptions(legs=("bm25",)),
    # The fusion tuned for each searched domain (apps.retrieval.tuned_fusion), and the untuned
    # baseline it is measured against.
    "hybrid": RetrievalOptions(legs=("vector", "bm25")),
    "hybrid-rrf": RetrievalOptions(legs=("vector", "bm25"), fusion="rrf"),
}
WARM_UP_QUERIES = 3


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    hits: list[metrics.Span]
    flags: list[bool]
    recall: float
    average_precision: float
    ndcg: float
    reciprocal_rank: float
    latency_ms: float


@dataclass
class Report:
    questions_file: str
    corpus: str
    corpus_source: str
    also_searched: list[str]
    k: int
    questions: int
    skipped_without_gold: list[str]
    missing_gold_documents: list[str]
    fusions: dict[str, str]  # how each configuration of several legs fuses them
    results: dict[str, list[QuestionResult]]


def evaluation_run(
    *,
    questions_path: Path,
    corpus_slug: str | None = None,
    k: int = 10,
    configurations: Sequence[str] = tuple(CONFIGURATIONS),
    limit: int | None = None,
    also_search: Sequence[str] = (),
    stderr: TextIO | None = None,
) -> Report:
    """Load the questions, make sure the corpus holds their documents, run each configuration
    over it and the `also_search` corpora and score it; progress goes to `stderr` as tqdm bars
    when given."""
    _check_options(k, configurations, limit)
    questions = load_questions(questions_path)[:limit]
    if corpus_slug:
        corpus, source = corpus_by_slug(corpus_slug), "given"
    else:
        corpus, source = corpus_for_questions(questions_path, stderr=stderr)
    searched = searched_corpora(corpus, also_search)
    scored = [q for q in questions if q.gold]
    results = {
        name: evaluate(scored, searched, name=name, k=k, stderr=stderr) for name in configurations
    }
    return Report(
        questions_file=str(questions_path),
        corpus=corpus.slug,
        corpus_source=source,
        also_searched=[c.slug for c in searched[1:]],
        k=k,
        questions=len(questions),
        skipped_without_gold=[q.id for q in questions if not q.gold],
        missing_gold_documents=_missing_gold_documents(corpus, scored),
        fusions={
            name: fusion_plan(CONFIGURATIONS[name], searched).describe()
            for name in configurations
            if len(CONFIGURATIONS[name].legs) > 1
        },
        results=results,
    )


def searched_corpora(corpus: Corpus, also_search: Sequence[str]) -> list[Corpus]:
    """The evaluated corpus first, then the other corpora searched beside it, each with a
    current BM25 index."""
    extra = [corpus_by_slug(slug) for slug in dict.fromkeys(also_search) if slug != corpus.slug]
    for searched in [corpus, *extra]:
        bm25_index_ensure(corpus=searched)
    return [corpus, *extra]


def _check_options(k: int, configurations: Sequence[str], limit: int | None) -> None:
    if not 1 <= k <= MAX_K:
        raise EvaluationError(f"k must be between 1 and {MAX_K}, got {k}")
    unknown = [name for name in configurations if name not in CONFIGURATIONS]
    if unknown or not configurations:
        raise EvaluationError(
            f"configurations must be some of {', '.join(CONFIGURATIONS)}, got "
            f"{', '.join(configurations) or 'none'}"
        )
    if limit is not None and limit < 1:
        raise EvaluationError(f"limit must be at least 1, got {limit}")


def evaluate(
    questions: Sequence[Question],
    corpora: Sequence[Corpus],
    *,
    name: str,
    k: int = 10,
    stderr: TextIO | None = None,
) -> list[QuestionResult]:
    """Run configuration `name` for each question (all with gold) over `corpora` and score it."""
    options = CONFIGURATIONS[name]
    # Loading the model and the BM25 index, and the first few queries through cold caches, are
    # one-offs, not query latency.
    for question in questions[:WARM_UP_QUERIES]:
        retrieve(question.text, corpora, k=k, options=options)
    results = []
    for question in progress_bar(stderr, questions, unit="question", desc=name):
        started = time.perf_counter()
        hits = retrieve(question.text, corpora, question_filters(question), k=k, options=options)
        latency_ms = (time.perf_counter() - started) * 1000
        spans = [(_document(h, corpora[0]), h.char_start, h.char_end) for h in hits]
        results.append(score(question, spans, k, latency_ms))
    return results


def score(
    question: Question, spans: list[metrics.Span], k: int, latency_ms: float
) -> QuestionResult:
    """One question's metrics for its ranked hits, relevance judged by span overlap."""
    flags = metrics.relevance_flags(spans, question.gold)
    total = len(question.gold)
    return QuestionResult(
        question=question,
        hits=spans,
        flags=flags,
        recall=metrics.span_recall_at_k(spans, question.gold, k),
        average_precision=metrics.average_precision_at_k(flags, total, k),
        ndcg=metrics.ndcg_at_k(flags, total, k),
        reciprocal_rank=metrics.reciprocal_rank(flags[:k]),
        latency_ms=latency_ms,
    )


def _document(hit: Hit, evaluated: Corpus) -> str:
    if hit.corpus == evaluated.slug:
        return hit.document_external_id
    return f"{hit.corpus}/{hit.document_external_id}"


def _missing_gold_documents(corpus: Corpus, questions: Sequence[Question]) -> list[str]:
    gold = {document for q in questions for document, _, _ in q.gold}
    return sorted(gold - set(active_hashes(corpus)))
