"""Answer quality on a question file in the shared format, through the full answer path.

Each question is asked by a temporary evaluation user who may read only the evaluated corpus,
through services.answer_question: retrieval, generation and the citation checker exactly as an
asker meets them. Everything the run writes (the user, its grant, the answers) is rolled back.

Measures: answer and abstention rates; evidence hit rate (answered questions with at least one
cited passage overlapping a gold span); statement precision (shown statements whose citations
overlap gold); for questions marked unanswerable (cuad), how often the system abstains; for
pubmedqa, yes/no/maybe accuracy where an answer opens with a verdict, and ROUGE-L of the shown
statements against the long answer; and per-stage latency. Every figure is also given for the
tuning and held-out halves of the questions (Question.split), and every question's case is
listed (question_record) so that each figure can be traced to the statements behind it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from django.contrib.auth import get_user_model
from django.db import transaction

from apps.accounts.services import corpus_access_grant
from apps.adapters.selectors import AdapterChoice
from apps.assistant.generators import get_generator
from apps.assistant.models import AnswerStatus
from apps.assistant.services import answer_question
from apps.assistant.support import squash
from apps.corpora.models import Corpus
from apps.evaluation import metrics
from apps.evaluation.questions import (
    EvaluationError,
    Question,
    bm25_index_ensure,
    corpus_by_slug,
    corpus_for_questions,
    load_questions,
    progress_bar,
    question_filters,
)

EVALUATION_USER = "answer-evaluation"
STAGES = ("retrieve", "generate", "check", "first_statement", "total")
VERDICTS = ("yes", "no", "maybe")  # pubmedqa's answers
VERDICT = re.compile(r"^\s*(yes|no|maybe)\b", re.IGNORECASE)


@dataclass(frozen=True)
class AnswerResult:
    question: Question
    status: str
    statements: int
    statements_on_gold: int
    evidence_hit: bool
    verdict: str | None
    rouge_l: float | None
    timings: dict[str, float]
    record: dict  # the question's case: what was shown, dropped or abstained on, and why


def evaluation_run(
    *,
    questions_path: Path,
    backend: str | None = None,
    corpus_slug: str | None = None,
    limit: int | None = None,
    stderr: TextIO | None = None,
    adapter: str | AdapterChoice | None = None,
    split: str | None = None,
) -> dict:
    """Answer the file's questions (only those of `split`, "tune" or "held_out", when given),
    with `adapter` as services.answer_start takes it, and score them."""
    questions = [q for q in load_questions(questions_path) if split in (None, q.split)][:limit]
    if not questions:
        raise EvaluationError(f"{questions_path} holds no question")
    if corpus_slug:
        corpus = corpus_by_slug(corpus_slug)
    else:
        corpus, _ = corpus_for_questions(questions_path, stderr=stderr)
    bm25_index_ensure(corpus=corpus)
    generator = get_generator(backend)
    with transaction.atomic():
        user = evaluation_user(corpus)
        results = [
            answer_one(user, question, corpus, generator, adapter)
            for question in progress_bar(stderr, questions, unit="question", desc="answers")
        ]
        transaction.set_rollback(True)
    return {
        "questions_file": str(questions_path),
        "corpus": corpus.slug,
        "backend": generator.backend,
        "model": generator.model_name,
        "all": summary(results),
        "tune": summary([r for r in results if r.question.split == "tune"]),
        "held_out": summary([r for r in results if r.question.split == "held_out"]),
        "questions": [r.record for r in results],
    }


def evaluation_user(corpus: Corpus):
    user = get_user_model().objects.create_user(EVALUATION_USER)
    corpus_access_grant(corpus=corpus, user=user)
    return user


def answer_one(user, question: Question, corpus: Corpus, generator, adapter=None) -> AnswerResult:
    answer = answer_question(
        user=user,
        question=question.text,
        corpora=[corpus.slug],
        filters=question_filters(question),
        generator=generator,
        adapter=adapter,
    )
    hits = {hit["number"]: hit for hit in answer.hits}
    shown = answer.shown_statements
    on_gold = [
        any(cites_gold(hits[number], question.gold) for number in s["citations"] if number in hits)
        for s in shown
    ]
    text = " ".join(s["text"] for s in shown)
    verdict = VERDICT.match(text)
    return AnswerResult(
        question=question,
        status=answer.status,
        statements=len(shown),
        statements_on_gold=sum(on_gold),
        evidence_hit=any(on_gold),
        verdict=verdict.group(1).lower() if verdict else None,
        rouge_l=rouge_l(text, question.long_answer) if question.long_answer and shown else None,
        timings=answer.timings,
        record=question_record(question, answer) | {"evidence_hit": any(on_gold)},
    )


def question_record(question: Question, answer) -> dict:
    """One question's case, read from its recorded Answer, so that every figure can be
    traced to the statements behind it."""
    hits = {hit["number"]: hit for hit in answer.hits}
    statements = [statement_case(s, hits) for s in answer.statements]
    return {
        "id": question.id,
        "split": question.split,
        "answerable": question.answerable,
        "status": answer.status,
        "adapter": answer.adapter or None,
        "raw_output": answer.raw_output,
        "timings": answer.timings,
        "pointing": citation_pointing(answer),
        "abstain_reason": answer.abstain_reason or None,
        "shown": [
            s for s, record in zip(statements, answer.statements, strict=True) if record["shown"]
        ],
        "dropped": [
            s
            for s, record in zip(statements, answer.statements, strict=True)
            if not record["shown"]
        ],
    }


def citation_pointing(answer) -> dict:
    """Of the statements written (shown or dropped) whose text lies in exactly one source, how
    many cite that source: whether the model points at what it copies, apart from copying."""
    sources = {hit["number"]: squash(hit["text"]) for hit in answer.hits}
    located = pointed = 0
    for statement in answer.statements:
        text = squash(statement["text"])
        holding = [number for number, passage in sources.items() if text and text in passage]
        if len(holding) == 1:
            located += 1
            pointed += holding[0] in statement["citations"]
    return {"located": located, "pointed": pointed}


def statement_case(statement: dict, hits: dict[int, dict]) -> dict:
    verdicts = {v["source"]: v for v in statement["verdicts"]}
    return {
        "text": statement["text"],
        "reason": statement["reason"],
        "citations": [
            {
                "number": number,
                # a number that names no retrieved passage has no label
                "label": hits[number]["label"] if number in hits else None,
                "supported": verdicts[number]["supported"] if number in verdicts else None,
                "reason": verdicts[number]["reason"] if number in verdicts else None,
            }
            for number in statement["citations"]
        ],
    }


def cites_gold(hit: dict, gold: Sequence[metrics.Span]) -> bool:
    return any(
        document == hit["document_external_id"]
        and metrics.spans_overlap(hit["char_start"], hit["char_end"], start, end)
        for document, start, end in gold
    )


def rouge_l(candidate: str, reference: str) -> float:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return scorer.score(reference, candidate)["rougeL"].fmeasure


def summary(results: Sequence[AnswerResult]) -> dict:
    answered = [r for r in results if r.status == AnswerStatus.ANSWERED]
    answerable = [r for r in results if r.question.answerable and r.question.gold]
    unanswerable = [r for r in results if not r.question.answerable]
    shown = sum(r.statements for r in answered)
    verdicts = [r for r in results if r.verdict and r.question.answer in VERDICTS]
    rouge = [r.rouge_l for r in results if r.rouge_l is not None]
    return {
        "questions": len(results),
        "answer_rate": share(len(answered), len(results)),
        "abstention_rate": share(
            sum(r.status == AnswerStatus.ABSTAINED for r in results), len(results)
        ),
        "conflict_rate": share(
            sum(r.status == AnswerStatus.CONFLICTING for r in results), len(results)
        ),
        "failed": sum(r.status == AnswerStatus.FAILED for r in results),
        "evidence_hit_rate": share(sum(r.evidence_hit for r in answered), len(answered)),
        "statement_precision": share(sum(r.statements_on_gold for r in answered), shown),
        "statements_per_answer": share(shown, len(answered)),
        "answerable": {
            "questions": len(answerable),
            "answered_with_gold_evidence": share(
                sum(r.evidence_hit for r in answerable), len(answerable)
            ),
        },
        "unanswerable": {
            "questions": len(unanswerable),
            # A conflict shows statements, so it is no abstention.
            "abstained": share(
                sum(r.status == AnswerStatus.ABSTAINED for r in unanswerable), len(unanswerable)
            ),
        },
        "verdicts": {
            "stated": len(verdicts),
            "accuracy": share(sum(r.verdict == r.question.answer for r in verdicts), len(verdicts)),
        },
        "rouge_l": round(sum(rouge) / len(rouge), 4) if rouge else None,
        "latency_ms": latency(results),
    }


def latency(results: Sequence[AnswerResult]) -> dict:
    stages = {}
    for stage in STAGES:
        samples = [r.timings[stage] * 1000 for r in results if stage in r.timings]
        if samples:
            p50, p95 = metrics.latency_percentiles(samples)
            stages[stage] = {"p50": round(p50, 1), "p95": round(p95, 1)}
    return stages


def share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None
