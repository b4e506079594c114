from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.test import Client

from apps.audit.models import Checkpoint, Event
from apps.review.models import Review, Sample
from apps.review.services import review_save, review_sign_off
from tests.review.conftest import all_labels, answer_with

URLS = [
    "/review/",
    "/review/dashboard/",
    "/review/exports/reviews.csv",
    "/review/exports/reviews.jsonl",
    "/review/report/",
]


@pytest.fixture(autouse=True)
def signing_key(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_PATH = tmp_path / "audit-key.pem"


def sign(reviewer, answer, overrides=None):
    draft = review_save(
        reviewer=reviewer, answer=answer, labels=all_labels(answer, overrides=overrides)
    )
    return review_sign_off(review=draft, reviewer=reviewer)


@pytest.mark.parametrize("url", URLS)
def test_the_workbench_is_for_auditors_only(alice, login, url):
    assert login(alice).get(url).status_code == 403
    assert Client().get(url).status_code == 302


def test_an_auditor_draws_a_sample_and_assigns_a_second_reviewer(alice, carol, dave, login):
    answers = [answer_with(alice) for _ in range(5)]
    client = login(carol)
    response = client.post("/review/samples/", {"size": "3", "seed": "5", "corpus": "a"})
    sample = Sample.objects.get()
    assert response["Location"] == f"/review/samples/{sample.pk}/"
    assert sample.filters == {"corpus": "a"} and len(sample.answers) == 3
    page = client.get(f"/review/samples/{sample.pk}/").content.decode()
    assert all(f"#{answer_id}</a>" in page for answer_id in sample.answers)

    client.post(
        f"/review/samples/{sample.pk}/assign/",
        {"auditor": dave.pk, "answer": [sample.answers[0], answers[4].pk]},
    )
    assert [a.answer_id for a in dave.review_assignments.all()] == [sample.answers[0]]
    assert f"#{sample.answers[0]}" in login(dave).get("/review/").content.decode()


def test_a_bad_sample_request_says_why(carol, login):
    response = login(carol).post("/review/samples/", {"size": "3"}, follow=True)
    assert "no recorded answer matches these filters" in response.content.decode()
    response = login(carol).post("/review/samples/", {"size": "many"}, follow=True)
    assert "size and seed are whole numbers" in response.content.decode()


def test_the_review_page_shows_each_statement_beside_its_marked_passage(alice, carol, login):
    answer = answer_with(alice)
    page = login(carol).get(f"/review/answers/{answer.pk}/").content.decode()

    assert "Records are kept for six years." in page and "Records are kept for one year." in page
    assert "<mark>at least six years</mark>" in page
    assert "dropped: " in page and page.count('type="radio"') == 3 * 5
    assert f"?answer={answer.pk}&amp;start=" in page  # the cited passage opens on its own
    assert "(not cited)" in page  # source 3 is named, its text withheld
    viewed = Event.objects.get(action="answer.viewed")
    assert viewed.actor == "carol" and viewed.payload["withheld"] == [3]


def test_an_auditor_labels_signs_off_and_corrects(alice, carol, login):
    answer = answer_with(alice)
    client = login(carol)
    url = f"/review/answers/{answer.pk}/"
    labels = {"label-0-1": "correct", "label-0-2": "misgrounded", "note": "source 2 is off"}

    client.post(url, {**labels, "action": "save"})
    draft = Review.objects.get()
    assert not draft.signed and len(draft.labels) == 2
    response = client.post(url, {**labels, "action": "sign"})
    assert "1 citation(s) still need a label" in response.content.decode()
    client.post(url, {**labels, "label-1-1": "incorrect", "action": "sign"})
    signed = Review.objects.get()
    assert signed.signed and signed.note == "source 2 is off"

    page = client.get(url).content.decode()
    assert "You signed off this review" in page and "Correct this review" in page
    client.post(url, {"action": "correct"})
    correction = Review.objects.get(signed_at__isnull=True)
    assert correction.corrects == signed
    assert "This draft corrects review" in client.get(url).content.decode()


def test_the_dashboard_shows_error_rates_with_intervals_and_agreement(
    alice, bob, carol, dave, login
):
    first, second = answer_with(alice), answer_with(bob, corpus="b", backend="tgi")
    sign(carol, first)
    sign(carol, second, {(0, 1): "misgrounded"})
    sign(dave, first)
    sign(dave, second, {(0, 2): "misgrounded"})

    page = login(carol).get("/review/dashboard/").content.decode()

    # One review per answer (the latest): dave's; the second answer has an error.
    assert "50.0% (1/2; 95% CI 9.5%–90.5%)" in page
    assert "Lexis+ AI" in page and "<svg" in page and "<script" not in page
    assert "16.7% (1/6" in page  # citations: 1 misgrounded of 6
    assert "Cohen&#x27;s κ" in page or "Cohen's κ" in page
    assert "over 6 citations of" in page


def test_reviews_export_as_csv_and_jsonl_and_each_export_is_recorded(alice, carol, login):
    answer = answer_with(alice)
    review = sign(carol, answer, {(1, 1): "incorrect"})
    client = login(carol)

    response = client.get("/review/exports/reviews.csv")
    body = response.content.decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert response["Content-Disposition"] == 'attachment; filename="reviews.csv"'
    assert [(r["statement"], r["source"], r["label"]) for r in rows] == [
        ("1", "1", "correct"),
        ("1", "2", "correct"),
        ("2", "1", "incorrect"),
    ]
    lines = client.get("/review/exports/reviews.jsonl").content.decode().splitlines()
    assert [json.loads(line)["review"] for line in lines] == [review.pk] * 3

    exports = Event.objects.filter(action__startswith="export.").order_by("seq")
    assert [e.action for e in exports] == ["export.csv", "export.jsonl"]
    assert exports[0].payload["sha256"] == hashlib.sha256(body.encode()).hexdigest()


def test_the_audit_report_carries_the_sample_the_reviews_the_rates_and_a_signed_checkpoint(
    alice, carol, login
):
    answer_with(alice)
    client = login(carol)
    client.post("/review/samples/", {"size": "1", "seed": "3"})
    sample = Sample.objects.get()
    sign(carol, answer_with(alice))  # outside the sample
    review = sign(carol, Review.answer.field.related_model.objects.get(pk=sample.answers[0]))

    page = client.get(f"/review/report/?sample={sample.pk}").content.decode()

    checkpoint = Checkpoint.objects.get()
    export = Event.objects.get(action="export.report")
    assert checkpoint.seq == export.seq  # taken at the report's own event
    assert f"seed {sample.seed}" in page and f"#{review.pk}" in page
    assert "0.0% (0/1" in page and checkpoint.signature in page and checkpoint.hash in page
    message = f"seq={checkpoint.seq}\nhash={checkpoint.hash}\n"
    assert message in page
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(checkpoint.public_key)).verify(
        bytes.fromhex(checkpoint.signature),
        page.split("<pre>")[-1].split("</pre>")[0].encode(),
    )
