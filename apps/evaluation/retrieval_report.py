"""Presenting a retrieval evaluation: mean metrics per configuration and group, as a table
for the terminal and as JSON with every question's hits."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from statistics import fmean
from typing import Any

from apps.evaluation.questions import GROUP_FIELD
from apps.evaluation.retrieval import QuestionResult, Report


@dataclass(frozen=True)
class Summary:
    recall: float | None
    map: float | None
    ndcg: float | None
    mrr: float | None
    questions: int
    latency_ms: float | None


def summaries(report: Report) -> dict[str, dict[str, Summary]]:
    """Per configuration: all scored questions, each GROUP_FIELD group when questions carry
    that field, then the tuning and held-out halves (Question.split) that tuning reports on."""
    return {name: _grouped(rows) for name, rows in report.results.items()}


def report_json(report: Report) -> dict[str, Any]:
    """All numbers, with every scored question's hits, as plain JSON data."""
    return {
        "questions_file": report.questions_file,
        "corpus": report.corpus,
        "corpus_source": report.corpus_source,
        "also_searched": report.also_searched,
        "k": report.k,
        "questions": report.questions,
        "skipped_without_gold": report.skipped_without_gold,
        "missing_gold_documents": report.missing_gold_documents,
        "fusions": report.fusions,
        "summaries": {
            name: {group: asdict(summary) for group, summary in groups.items()}
            for name, groups in summaries(report).items()
        },
        "per_question": _per_question_json(report.results),
    }


def format_table(report: Report) -> str:
    """The summaries as a fixed-width table, one row per configuration and group."""
    k = report.k
    header = (
        f"{'configuration':<14}{'group':<28}{f'recall@{k}':>10}{f'MAP@{k}':>9}"
        f"{f'nDCG@{k}':>9}{'MRR':>8}{'n':>7}{'ms/query':>10}"
    )
    lines = [header, "-" * len(header)]
    for name, groups in summaries(report).items():
        for group, summary in groups.items():
            lines.append(f"{name:<14}{group:<28}{_summary_cells(summary)}")
    return "\n".join(lines)


def _grouped(rows: list[QuestionResult]) -> dict[str, Summary]:
    groups = {"all": _summary(rows)}
    if any(row.question.group is not None for row in rows):
        for value in (True, False):
            label = f"{GROUP_FIELD}={str(value).lower()}"
            groups[label] = _summary([row for row in rows if row.question.group is value])
    for split in ("tune", "held_out"):
        groups[f"split={split}"] = _summary([row for row in rows if row.question.split == split])
    return groups


def _summary(rows: list[QuestionResult]) -> Summary:
    def mean(values: list[float]) -> float | None:
        return fmean(values) if values else None

    return Summary(
        recall=mean([r.recall for r in rows]),
        map=mean([r.average_precision for r in rows]),
        ndcg=mean([r.ndcg for r in rows]),
        mrr=mean([r.reciprocal_rank for r in rows]),
        questions=len(rows),
        latency_ms=mean([r.latency_ms for r in rows]),
    )


def _per_question_json(results: dict[str, list[QuestionResult]]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for name, question_results in results.items():
        for result in question_results:
            question = result.question
            row = rows.setdefault(
                question.id,
                {
                    "id": question.id,
                    GROUP_FIELD: question.group,
                    "scope_document": question.scope_document,
                    "gold_spans": len(question.gold),
                    "results": {},
                },
            )
            row["results"][name] = _result_json(result)
    return list(rows.values())


def _result_json(result: QuestionResult) -> dict[str, Any]:
    return {
        "recall": result.recall,
        "average_precision": result.average_precision,
        "ndcg": result.ndcg,
        "reciprocal_rank": result.reciprocal_rank,
        "latency_ms": round(result.latency_ms, 3),
        "hits": [
            {"document": document, "start": start, "end": end, "relevant": flag}
            for (document, start, end), flag in zip(result.hits, result.flags, strict=True)
        ],
    }


def _summary_cells(summary: Summary) -> str:
    def cell(value: float | None, width: int, digits: int = 3) -> str:
        return f"{value:>{width}.{digits}f}" if value is not None else f"{'-':>{width}}"

    return (
        cell(summary.recall, 10)
        + cell(summary.map, 9)
        + cell(summary.ndcg, 9)
        + cell(summary.mrr, 8)
        + f"{summary.questions:>7}"
        + cell(summary.latency_ms, 10, 1)
    )
