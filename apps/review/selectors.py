from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from apps.assistant.models import Answer
from apps.review.agreement import cohens_kappa
from apps.review.models import ERRORS, Review, Sample
from apps.review.rates import Rate

PUBLISHED = [  # answer-level hallucination rates, Magesh et al. 2024
    ("Lexis+ AI", 0.17),
    ("Westlaw AI-Assisted Research", 0.33),
]
STUDY_KAPPA = 0.77
DIMENSIONS = ("corpus", "backend", "adapter", "month")


def is_reviewer(user) -> bool:
    return user.is_active and user.has_perm("review.add_review")


def candidates(filters: dict, until) -> QuerySet[Answer]:
    """The answers a sample with these filters is drawn from, recorded up to `until`."""
    answers = Answer.objects.filter(created_at__lte=until)
    if filters.get("corpus"):
        answers = answers.filter(corpora__contains=[filters["corpus"]])
    for name in ("backend", "adapter", "status"):
        if filters.get(name):
            answers = answers.filter(**{name: filters[name]})
    if filters.get("since"):
        answers = answers.filter(created_at__date__gte=filters["since"])
    return answers


def stratum_of(corpora: Iterable[str], backend: str, adapter: str, status: str) -> tuple:
    return (",".join(sorted(corpora)), backend, adapter or "none", status)


def effective_reviews() -> QuerySet[Review]:
    """Signed reviews that no signed correction replaces."""
    return Review.objects.filter(signed_at__isnull=False).exclude(
        corrections__signed_at__isnull=False
    )


def review_of(answer: Answer, reviewer) -> tuple[Review | None, Review | None]:
    """The reviewer's draft of `answer`, and their effective signed review of it."""
    mine = Review.objects.filter(answer=answer, reviewer=reviewer)
    draft = mine.filter(signed_at__isnull=True).first()
    signed = effective_reviews().filter(answer=answer, reviewer=reviewer).first()
    return draft, signed


def citations_of(answer: Answer) -> list[tuple[int, int]]:
    """(statement index, source number) of every citation, shown statements and dropped."""
    return [
        (index, number)
        for index, statement in enumerate(answer.statements)
        for number in statement["citations"]
    ]


@dataclass(frozen=True)
class LabelledCitation:
    answer: int
    statement: int
    source: int
    label: str
    corpus: str
    backend: str
    adapter: str
    month: str


def labelled_citations(reviews: Iterable[Review]) -> list[LabelledCitation]:
    rows = []
    for review in reviews:
        answer = review.answer
        corpus_of = {hit["number"]: hit["corpus"] for hit in answer.hits}
        for item in review.labels:
            rows.append(
                LabelledCitation(
                    answer=answer.pk,
                    statement=item["statement"],
                    source=item["source"],
                    label=item["label"],
                    corpus=corpus_of.get(item["source"], "?"),
                    backend=answer.backend,
                    adapter=answer.adapter or "none",
                    month=f"{answer.created_at:%Y-%m}",
                )
            )
    return rows


def dashboard_reviews(sample: Sample | None = None) -> list[Review]:
    """One review per answer: the latest effective signed one (of either reviewer, where two
    reviewed it)."""
    reviews = effective_reviews().select_related("answer", "reviewer").order_by("signed_at")
    if sample is not None:
        reviews = reviews.filter(answer_id__in=sample.answers)
    latest = {review.answer_id: review for review in reviews}
    return sorted(latest.values(), key=lambda review: review.answer_id)


def error_rates(rows: list[LabelledCitation], by: str | None) -> dict[str, dict[str, Rate]]:
    """Per group of `by` (corpus, backend, adapter, month; None: all), the share of labelled
    citations that are misgrounded, incorrect, fabricated, and any of the three."""
    groups: dict[str, list[LabelledCitation]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, by) if by else "all"].append(row)
    return {
        group: {
            **{
                label.value: Rate(sum(r.label == label for r in items), len(items))
                for label in ERRORS
            },
            "any": Rate(sum(r.label in ERRORS for r in items), len(items)),
        }
        for group, items in sorted(groups.items())
    }


def answer_error_rate(reviews: list[Review]) -> Rate:
    """The share of reviewed answers with at least one citation labelled an error: the measure
    the published rates are given in."""
    flagged = sum(any(item["label"] in ERRORS for item in r.labels) for r in reviews)
    return Rate(flagged, len(reviews))


def agreement(sample: Sample | None = None) -> dict:
    """Cohen's κ between the first two reviewers of each doubly reviewed answer, over the
    citations both labelled."""
    reviews = effective_reviews().order_by("signed_at")
    if sample is not None:
        reviews = reviews.filter(answer_id__in=sample.answers)
    by_answer: dict[int, list[Review]] = defaultdict(list)
    for review in reviews:
        if all(r.reviewer_id != review.reviewer_id for r in by_answer[review.answer_id]):
            by_answer[review.answer_id].append(review)
    pairs = []
    answers = 0
    for first, second, *_ in (r for r in by_answer.values() if len(r) >= 2):
        theirs = {(i["statement"], i["source"]): i["label"] for i in second.labels}
        both = [
            (i["label"], theirs[(i["statement"], i["source"])])
            for i in first.labels
            if (i["statement"], i["source"]) in theirs
        ]
        answers += bool(both)
        pairs.extend(both)
    return {
        "kappa": cohens_kappa(pairs),
        "pairs": len(pairs),
        "answers": answers,
        "study_kappa": STUDY_KAPPA,
    }


@dataclass(frozen=True)
class ReviewedRates:
    """What the dashboard and the audit report show, for one sample or for every review: the
    reviews counted, their labelled citations, the share of answers with an error, the citation
    error rates overall and by each of DIMENSIONS, and the reviewers' agreement."""

    sample: Sample | None
    reviews: list[Review]
    citations: list[LabelledCitation]
    overall: Rate
    citation_rates: dict[str, Rate] | None
    by_dimension: dict[str, dict[str, dict[str, Rate]]]
    agreement: dict


def reviewed_rates(sample_id: str | None) -> ReviewedRates:
    sample = Sample.objects.filter(pk=sample_id or None).first()
    reviews = dashboard_reviews(sample)
    rows = labelled_citations(reviews)
    return ReviewedRates(
        sample=sample,
        reviews=reviews,
        citations=rows,
        overall=answer_error_rate(reviews),
        citation_rates=error_rates(rows, None).get("all"),
        by_dimension={dimension: error_rates(rows, dimension) for dimension in DIMENSIONS},
        agreement=agreement(sample),
    )
