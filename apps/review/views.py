"""The auditor's workbench: the review queue, samples, the review page, the dashboard."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.models import Role
from apps.assistant.citations import REASONS
from apps.assistant.models import Answer, AnswerStatus
from apps.assistant.presenters import quote_span
from apps.assistant.selectors import answer_withheld
from apps.assistant.services import answer_view_record
from apps.corpora.models import Corpus
from apps.review import charts
from apps.review.models import Assignment, Label, Review, Sample
from apps.review.selectors import (
    PUBLISHED,
    agreement,
    is_reviewer,
    review_of,
    reviewed_rates,
)
from apps.review.services import (
    ReviewError,
    assignment_create,
    review_correct,
    review_save,
    review_sign_off,
    sample_draw,
)


def reviewer_required(view):
    @login_required
    @wraps(view)
    def checked(request, *args, **kwargs):
        if not is_reviewer(request.user):
            raise PermissionDenied("the review workbench is for auditors")
        return view(request, *args, **kwargs)

    return checked


@reviewer_required
def queue(request):
    if request.GET.get("answer"):
        try:
            return redirect("review-answer", answer_id=int(request.GET["answer"]))
        except ValueError:
            pass
    context = {
        "samples": Sample.objects.select_related("created_by")[:20],
        "assigned": Assignment.objects.filter(auditor=request.user)
        .exclude(
            answer__in=Review.objects.filter(reviewer=request.user, signed_at__isnull=False).values(
                "answer"
            )
        )
        .select_related("answer")[:50],
        "drafts": Review.objects.filter(reviewer=request.user, signed_at__isnull=True)[:50],
        "corpora": Corpus.objects.order_by("slug").values_list("slug", flat=True),
        "backends": Answer.objects.order_by().values_list("backend", flat=True).distinct(),
        "adapters": Answer.objects.exclude(adapter="")
        .order_by()
        .values_list("adapter", flat=True)
        .distinct(),
        "statuses": AnswerStatus.choices,
        "error": request.GET.get("error"),
    }
    return render(request, "review/queue.html", context)


@require_POST
@reviewer_required
def sample_create(request):
    filters = {
        name: request.POST[name].strip()
        for name in ("corpus", "backend", "adapter", "status", "since")
        if request.POST.get(name, "").strip()
    }
    try:
        size = int(request.POST.get("size", ""))
        seed = int(request.POST["seed"]) if request.POST.get("seed", "").strip() else None
        sample = sample_draw(user=request.user, size=size, filters=filters, seed=seed)
    except (ValueError, ReviewError) as exc:
        message = str(exc) if isinstance(exc, ReviewError) else "size and seed are whole numbers"
        return redirect(f"{reverse('review-queue')}?error={message}")
    return redirect("review-sample", sample_id=sample.pk)


@reviewer_required
def sample_detail(request, sample_id: int):
    sample = get_object_or_404(Sample, pk=sample_id)
    answers = Answer.objects.in_bulk(sample.answers)
    reviews = Review.objects.filter(answer_id__in=sample.answers).select_related("reviewer")
    assignments = Assignment.objects.filter(answer_id__in=sample.answers).select_related("auditor")
    rows = [
        {
            "answer": answers[answer_id],
            "reviews": [r for r in reviews if r.answer_id == answer_id],
            "assigned": [a.auditor for a in assignments if a.answer_id == answer_id],
        }
        for answer_id in sample.answers
        if answer_id in answers
    ]
    auditors = get_user_model().objects.filter(groups__name=Role.AUDITOR.value, is_active=True)
    context = {"sample": sample, "rows": rows, "auditors": auditors, "agreement": agreement(sample)}
    return render(request, "review/sample.html", context)


@require_POST
@reviewer_required
def assign(request, sample_id: int):
    sample = get_object_or_404(Sample, pk=sample_id)
    auditor = get_object_or_404(get_user_model(), pk=request.POST.get("auditor"))
    answer_ids = [int(a) for a in request.POST.getlist("answer") if a.isdigit()]
    for answer in Answer.objects.filter(pk__in=set(answer_ids) & set(sample.answers)):
        try:
            assignment_create(
                answer=answer, auditor=auditor, assigned_by=request.user, sample=sample
            )
        except ReviewError as exc:
            raise PermissionDenied(str(exc)) from None
    return redirect("review-sample", sample_id=sample.pk)


@reviewer_required
def answer_review(request, answer_id: int):
    answer = Answer.objects.filter(pk=answer_id).select_related("asker").first()
    if answer is None:
        raise Http404(f"no answer {answer_id}")
    draft, signed = review_of(answer, request.user)
    problem = ""
    if request.method == "POST":
        try:
            draft = review_step(request, answer, draft, signed)
            return redirect("review-answer", answer_id=answer.pk)
        except ReviewError as exc:
            problem = str(exc)
    withheld = answer_withheld(request.user, answer)
    answer_view_record(viewer=request.user, answer=answer, withheld=withheld)
    current = draft or signed
    context = {
        "answer": answer,
        "statements": statements_for_review(answer, current),
        "draft": draft,
        "signed": signed,
        "labels": Label.choices,
        "problem": problem,
        "sources": [
            {"number": hit["number"], "label": hit["label"], "cited": hit["number"] not in withheld}
            for hit in answer.hits
        ],
    }
    return render(request, "review/answer.html", context)


def review_step(request, answer: Answer, draft: Review | None, signed: Review | None) -> Review:
    action = request.POST.get("action")
    if action == "correct":
        if not signed:
            raise ReviewError("there is no signed review to correct")
        return review_correct(review=signed, reviewer=request.user)
    labels = [
        {"statement": int(statement), "source": int(source), "label": value}
        for key, value in request.POST.items()
        if key.startswith("label-") and value
        for statement, source in [key.removeprefix("label-").split("-", 1)]
    ]
    sample = Sample.objects.filter(pk=request.POST.get("sample") or None).first()
    draft = review_save(
        reviewer=request.user,
        answer=answer,
        labels=labels,
        note=request.POST.get("note", ""),
        sample=draft.sample if draft else sample,
    )
    if action == "sign":
        review_sign_off(review=draft, reviewer=request.user)
    return draft


def statements_for_review(answer: Answer, review: Review | None) -> list[dict]:
    """Each statement, shown or dropped, with every cited passage: the cited characters
    marked, the checker's verdict and reason, and the label given so far."""
    by_number = {hit["number"]: hit for hit in answer.hits}
    given = {(i["statement"], i["source"]): i["label"] for i in (review.labels if review else [])}
    rows = []
    for index, statement in enumerate(answer.statements):
        verdicts = {v["source"]: v for v in statement.get("verdicts", [])}
        citations = []
        for number in statement["citations"]:
            hit = by_number.get(number)
            if hit is None:
                continue
            text = hit["text"]
            start, end = (
                quote_span(text, statement["quote"]) if statement.get("quote") else (0, len(text))
            )
            verdict = verdicts.get(number, {})
            citations.append(
                {
                    "number": number,
                    "hit": hit,
                    "before": text[:start],
                    "cited": text[start:end],
                    "after": text[end:],
                    "document_url": f"{reverse('document', args=[hit['document_id']])}"
                    f"?answer={answer.pk}&start={hit['char_start'] + start}"
                    f"&end={hit['char_start'] + end}",
                    "verdict": verdict,
                    "explanation": REASONS.get(
                        verdict.get("reason", ""), verdict.get("reason", "")
                    ),
                    "label": given.get((index, number), ""),
                    "field": f"label-{index}-{number}",
                }
            )
        rows.append(
            {
                "index": index,
                "statement": statement,
                "explanation": REASONS.get(statement["reason"], statement["reason"]),
                "citations": citations,
            }
        )
    return rows


@reviewer_required
def dashboard(request):
    rates = reviewed_rates(request.GET.get("sample"))
    context = {
        "sample": rates.sample,
        "reviews": len(rates.reviews),
        "citations": len(rates.citations),
        "overall": rates.overall,
        "overall_chart": charts.rate_bars(
            [("This product (answers with an error)", rates.overall)],
            anchors=PUBLISHED,
        ),
        "citation_rates": rates.citation_rates,
        "tables": rates.by_dimension,
        "charts": charts.dimension_bars(rates.by_dimension),
        "agreement": rates.agreement,
        "published": PUBLISHED,
    }
    return render(request, "review/dashboard.html", context)
