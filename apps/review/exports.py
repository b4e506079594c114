"""Exports: the reviews as CSV and JSONL, and the audit report, print-ready HTML that carries
the sample's definition, its reviews, the error rates and the checkpoint it was signed at.
Every export is an event."""

from __future__ import annotations

import csv
import hashlib
import io
import json

from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from apps.audit.selectors import checkpoint_as_dict
from apps.audit.services import checkpoint_create
from apps.audit.signing import SigningKeyError
from apps.review import charts
from apps.review.models import Review, Sample
from apps.review.selectors import PUBLISHED, effective_reviews, reviewed_rates
from apps.review.services import export_record
from apps.review.views import reviewer_required

COLUMNS = (
    "review",
    "answer",
    "reviewer",
    "signed_at",
    "corrects",
    "sample",
    "statement",
    "shown",
    "statement_text",
    "source",
    "citation",
    "corpus",
    "document",
    "checker_verdict",
    "label",
    "note",
)


def review_rows(reviews) -> list[dict]:
    rows = []
    for review in reviews:
        answer = review.answer
        hits = {hit["number"]: hit for hit in answer.hits}
        for item in review.labels:
            statement = answer.statements[item["statement"]]
            hit = hits.get(item["source"], {})
            verdict = next(
                (v for v in statement.get("verdicts", []) if v["source"] == item["source"]), {}
            )
            rows.append(
                {
                    "review": review.pk,
                    "answer": answer.pk,
                    "reviewer": review.reviewer.get_username(),
                    "signed_at": review.signed_at.isoformat(),
                    "corrects": review.corrects_id,
                    "sample": review.sample_id,
                    "statement": item["statement"] + 1,
                    "shown": statement["shown"],
                    "statement_text": statement["text"],
                    "source": item["source"],
                    "citation": hit.get("label", ""),
                    "corpus": hit.get("corpus", ""),
                    "document": hit.get("document_id"),
                    "checker_verdict": verdict.get("reason", ""),
                    "label": item["label"],
                    "note": review.note,
                }
            )
    return rows


def exported_reviews(request):
    """Signed reviews (corrected ones included, each naming what it corrects) of the sample
    named by ?sample=, else all."""
    reviews = Review.objects.filter(signed_at__isnull=False).select_related("answer", "reviewer")
    sample = Sample.objects.filter(pk=request.GET.get("sample") or None).first()
    if sample:
        reviews = reviews.filter(answer_id__in=sample.answers)
    return sample, list(reviews.order_by("pk"))


@reviewer_required
def reviews_csv(request):
    sample, reviews = exported_reviews(request)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    rows = review_rows(reviews)
    writer.writerows(rows)
    return exported(request, out.getvalue(), "text/csv", "reviews.csv", sample, reviews, rows)


@reviewer_required
def reviews_jsonl(request):
    sample, reviews = exported_reviews(request)
    rows = review_rows(reviews)
    body = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return exported(request, body, "application/jsonl", "reviews.jsonl", sample, reviews, rows)


def exported(request, body: str, content_type: str, name: str, sample, reviews, rows):
    export_record(
        user=request.user,
        kind=name.rsplit(".", 1)[1],
        payload={
            "sample": sample.pk if sample else None,
            "reviews": [review.pk for review in reviews],
            "rows": len(rows),
            "sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(),
        },
    )
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@reviewer_required
def report(request):
    """The audit report: print it, or save it as PDF from the browser's print dialog."""
    rates = reviewed_rates(request.GET.get("sample"))
    facts = {
        "sample": rates.sample.pk if rates.sample else None,
        "reviews": {review.pk: review.content_hash for review in rates.reviews},
        "answer_error_rate": rates.overall.as_dict(),
        "by": {
            d: {g: {k: r.as_dict() for k, r in t.items()} for g, t in table.items()}
            for d, table in rates.by_dimension.items()
        },
        "agreement": rates.agreement,
    }
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()
    try:
        with transaction.atomic():
            export_record(
                user=request.user,
                kind="report",
                payload={
                    "sample": facts["sample"],
                    "reviews": list(facts["reviews"]),
                    "sha256": digest,
                },
            )
            checkpoint = checkpoint_create()
    except SigningKeyError as exc:
        return HttpResponse(
            f"The report needs the audit signing key: {exc}",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    context = {
        "sample": rates.sample,
        "reviews": rates.reviews,
        "generated_at": timezone.now(),
        "overall": rates.overall,
        "overall_chart": charts.rate_bars([("This product", rates.overall)], anchors=PUBLISHED),
        "citation_rates": rates.citation_rates,
        "tables": rates.by_dimension,
        "charts": charts.dimension_bars(rates.by_dimension),
        "agreement": rates.agreement,
        "digest": digest,
        "checkpoint": checkpoint_as_dict(checkpoint),
        "published": PUBLISHED,
        "effective": effective_reviews().count(),
    }
    return render(request, "review/report.html", context)
