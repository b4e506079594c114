"""The auditor's workbench: drawing samples, assigning answers, and reviews from draft to
signed record, each step in the audit trail."""

from __future__ import annotations

import secrets
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from apps.assistant.models import Answer
from apps.audit.services import event_record, record_event, record_seal
from apps.review.models import STRATA, Assignment, Label, Review, Sample
from apps.review.sampling import stratified_sample
from apps.review.selectors import candidates, citations_of, stratum_of

MAX_SAMPLE = 1000


class ReviewError(ValueError):
    """A review step that cannot be taken as asked, with a message fit to show."""


@transaction.atomic
def sample_draw(*, user, size: int, filters: dict, seed: int | None = None) -> Sample:
    """Draw a random sample of `size` answers, stratified by corpus, backend, adapter and
    status, from the answers that match `filters` (corpus, backend, adapter, status, since)
    recorded so far. The same seed, filters and cut-off draw the same answers."""
    if not 1 <= size <= MAX_SAMPLE:
        raise ReviewError(f"a sample holds 1 to {MAX_SAMPLE} answers, not {size}")
    until = timezone.now()
    seed = secrets.randbelow(2**31) if seed is None else seed
    strata: dict[tuple, list[int]] = defaultdict(list)
    rows = candidates(filters, until).values_list("id", "corpora", "backend", "adapter", "status")
    for answer_id, *key in rows:
        strata[stratum_of(*key)].append(answer_id)
    if not strata:
        raise ReviewError("no recorded answer matches these filters")
    drawn, counts = stratified_sample(strata, size, seed)
    sample = Sample.objects.create(
        created_by=user,
        seed=seed,
        size=size,
        filters=filters,
        until=until,
        population=sum(len(ids) for ids in strata.values()),
        strata=[
            {
                **dict(zip(STRATA, key, strict=True)),
                "answers": len(strata[key]),
                "drawn": counts[key],
            }
            for key in sorted(strata, key=repr)
        ],
        answers=drawn,
    )
    event_record(
        action="sample.drawn",
        actor=user,
        obj=sample,
        payload={"seed": seed, "size": size, "filters": filters, "answers": drawn},
    )
    return sample


@transaction.atomic
def assignment_create(*, answer: Answer, auditor, assigned_by, sample: Sample | None = None):
    """Give `answer` to `auditor` to review; a second auditor makes it a double review."""
    if not auditor.has_perm("review.add_review"):
        raise ReviewError(f"{auditor.get_username()} is not an auditor")
    assignment, created = Assignment.objects.get_or_create(
        answer=answer, auditor=auditor, defaults={"assigned_by": assigned_by, "sample": sample}
    )
    if created:
        event_record(
            action="review.assigned",
            actor=assigned_by,
            obj=answer,
            payload={"auditor": auditor.pk, "sample": sample.pk if sample else None},
        )
    return assignment


@transaction.atomic
def review_save(
    *, reviewer, answer: Answer, labels: list[dict], note: str = "", sample=None
) -> Review:
    """Save the reviewer's draft of `answer` (made on the first save): a label for some or
    all of its citations, and a note."""
    labels = checked_labels(answer, labels)
    review = Review.objects.select_for_update().filter(
        answer=answer, reviewer=reviewer, signed_at__isnull=True
    ).first() or Review(answer=answer, reviewer=reviewer, sample=sample)
    review.labels, review.note = labels, note.strip()
    review.save()
    return review


def checked_labels(answer: Answer, labels: list[dict]) -> list[dict]:
    citations = set(citations_of(answer))
    checked = {}
    for item in labels:
        key = (item["statement"], item["source"])
        if key not in citations:
            raise ReviewError(f"statement {key[0] + 1} does not cite source [{key[1]}]")
        if item["label"] not in Label.values:
            raise ReviewError(f"unknown label {item['label']!r}")
        checked[key] = {"statement": key[0], "source": key[1], "label": item["label"]}
    return [checked[key] for key in sorted(checked)]


@transaction.atomic
def review_sign_off(*, review: Review, reviewer) -> Review:
    """Sign off a draft: from now on it is a record, hashed and vouched for by its
    review.signed event, that neither the product nor the database lets anyone change."""
    review = Review.objects.select_for_update().get(pk=review.pk)
    if review.reviewer_id != reviewer.pk:
        raise ReviewError("only its reviewer signs off a review")
    if review.signed:
        raise ReviewError("this review is signed off already; correct it with a new review")
    missing = set(citations_of(review.answer)) - {
        (i["statement"], i["source"]) for i in review.labels
    }
    if missing:
        raise ReviewError(f"{len(missing)} citation(s) still need a label")
    review.signed_at = timezone.now()
    record_seal(record=review)
    review.save()
    record_event(
        record=review,
        actor=reviewer,
        payload={"answer": review.answer_id, "corrects": review.corrects_id},
    )
    return review


@transaction.atomic
def review_correct(*, review: Review, reviewer) -> Review:
    """A draft that corrects a signed review: it starts from the old labels and note, and the
    old review stays as it was signed."""
    if not review.signed:
        raise ReviewError("only a signed review is corrected; a draft is simply edited")
    if review.reviewer_id != reviewer.pk:
        raise ReviewError("a review is corrected by its own reviewer")
    draft = Review.objects.filter(
        answer=review.answer, reviewer=reviewer, signed_at__isnull=True
    ).first()
    if draft:
        return draft
    return Review.objects.create(
        answer=review.answer,
        reviewer=reviewer,
        sample=review.sample,
        corrects=review,
        labels=review.labels,
        note=review.note,
    )


def export_record(*, user, kind: str, payload: dict) -> None:
    """An export is an event too: what was exported, by whom, and its hash."""
    event_record(action=f"export.{kind}", actor=user, payload=payload)
