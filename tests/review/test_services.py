from __future__ import annotations

import pytest
from django.db import ProgrammingError, transaction

from apps.audit.models import Event
from apps.audit.verification import audit_verify
from apps.review.models import Review, Sample
from apps.review.selectors import effective_reviews
from apps.review.services import (
    ReviewError,
    assignment_create,
    review_correct,
    review_save,
    review_sign_off,
    sample_draw,
)
from tests.review.conftest import all_labels, answer_with


@pytest.fixture
def answers(alice, bob):
    made = [answer_with(alice, corpus="a", backend="extractive") for _ in range(12)]
    made += [answer_with(bob, corpus="b", backend="tgi", status="abstained") for _ in range(4)]
    made += [answer_with(bob, corpus="b", backend="tgi") for _ in range(4)]
    return made


def test_a_sample_is_stratified_reproducible_and_recorded(answers, carol):
    sample = sample_draw(user=carol, size=10, filters={}, seed=42)
    again = sample_draw(user=carol, size=10, filters={}, seed=42)

    assert sample.answers == again.answers and len(set(sample.answers)) == 10
    assert sample.population == 20
    drawn = {(s["corpus"], s["backend"], s["status"]): s["drawn"] for s in sample.strata}
    assert drawn == {
        ("a", "extractive", "answered"): 6,
        ("b", "tgi", "abstained"): 2,
        ("b", "tgi", "answered"): 2,
    }
    event = Event.objects.filter(action="sample.drawn").first()
    assert event.payload["answers"] == sample.answers and event.payload["seed"] == 42


def test_a_sample_follows_its_filters(answers, carol):
    sample = sample_draw(user=carol, size=50, filters={"corpus": "b", "status": "answered"})
    assert sorted(sample.answers) == sorted(a.pk for a in answers[16:])
    with pytest.raises(ReviewError, match="no recorded answer"):
        sample_draw(user=carol, size=5, filters={"backend": "nonesuch"})
    with pytest.raises(ReviewError, match="1 to 1000"):
        sample_draw(user=carol, size=0, filters={})


def test_a_sample_is_a_record_the_database_keeps(answers, carol):
    sample = sample_draw(user=carol, size=3, filters={})
    with pytest.raises(ProgrammingError), transaction.atomic():
        Sample.objects.filter(pk=sample.pk).update(seed=1)


def test_a_review_is_drafted_signed_and_then_cannot_change(alice, carol):
    answer = answer_with(alice)
    draft = review_save(reviewer=carol, answer=answer, labels=all_labels(answer)[:1])
    with pytest.raises(ReviewError, match="2 citation"):
        review_sign_off(review=draft, reviewer=carol)
    labels = all_labels(answer, overrides={(1, 1): "misgrounded"})
    draft = review_save(reviewer=carol, answer=answer, labels=labels, note=" checked ")
    signed = review_sign_off(review=draft, reviewer=carol)

    assert signed.signed and signed.note == "checked" and len(signed.content_hash) == 64
    event = Event.objects.get(action="review.signed")
    assert event.payload["content_hash"] == signed.content_hash
    with pytest.raises(ReviewError, match="signed off already"):
        review_sign_off(review=signed, reviewer=carol)
    for change in (lambda r: r.update(note="edited"), lambda r: r.delete()):
        with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
            change(Review.objects.filter(pk=signed.pk))
    assert audit_verify().ok and audit_verify().records["review.review"] == 1


def test_labels_must_name_a_real_citation_and_a_known_label(alice, carol):
    answer = answer_with(alice)
    with pytest.raises(ReviewError, match="does not cite source"):
        review_save(
            reviewer=carol,
            answer=answer,
            labels=[{"statement": 1, "source": 2, "label": "correct"}],
        )
    with pytest.raises(ReviewError, match="unknown label"):
        review_save(
            reviewer=carol, answer=answer, labels=[{"statement": 0, "source": 1, "label": "fine"}]
        )


def test_a_correction_is_a_new_review_that_names_the_old_one(alice, carol, dave):
    answer = answer_with(alice)
    first = review_sign_off(
        review=review_save(reviewer=carol, answer=answer, labels=all_labels(answer)),
        reviewer=carol,
    )
    with pytest.raises(ReviewError, match="its own reviewer"):
        review_correct(review=first, reviewer=dave)
    draft = review_correct(review=first, reviewer=carol)
    assert draft.corrects == first and draft.labels == first.labels and not draft.signed
    assert list(effective_reviews()) == [first]  # until the correction is signed

    labels = all_labels(answer, overrides={(0, 2): "fabricated"})
    review_save(reviewer=carol, answer=answer, labels=labels)
    second = review_sign_off(review=draft, reviewer=carol)

    assert list(effective_reviews()) == [second]
    first.refresh_from_db()
    assert first.labels == all_labels(answer) and first.signed  # as it was signed
    assert Event.objects.filter(action="review.signed").last().payload["corrects"] == first.pk


def test_a_second_auditor_makes_a_double_review(alice, carol, dave, admin_user):
    answer = answer_with(alice)
    assignment_create(answer=answer, auditor=carol, assigned_by=admin_user)
    assignment_create(answer=answer, auditor=dave, assigned_by=admin_user)
    assignment_create(answer=answer, auditor=dave, assigned_by=admin_user)  # again: nothing
    assert Event.objects.filter(action="review.assigned").count() == 2
    with pytest.raises(ReviewError, match="not an auditor"):
        assignment_create(answer=answer, auditor=alice, assigned_by=admin_user)
