from __future__ import annotations

from django.test import Client

from apps.assistant.services import answer_question
from tests.assistant.conftest import ScriptedGenerator, answer_json, faithful


def ask(user, script):
    return answer_question(
        user=user,
        question="Which beneficial owners must a relevant person identify?",
        generator=ScriptedGenerator(script),
    )


def test_an_auditor_reads_every_statement_and_verdict_in_the_admin(alice, carol, corpora):
    shown = ask(alice, faithful)
    dropped = ask(
        alice, lambda p: [answer_json({"text": "Owners of 10% count.", "citations": [7]})]
    )
    client = Client()
    client.force_login(carol)

    listing = client.get("/admin/assistant/answer/")
    assert listing.status_code == 200
    assert b"1 / 1" in listing.content and b"0 / 1" in listing.content
    detail = client.get(f"/admin/assistant/answer/{dropped.pk}/change/")
    assert detail.status_code == 200
    assert b"dropped" in detail.content and b"Owners of 10% count." in detail.content
    assert b"not one of the sources retrieved" in detail.content
    assert client.get(f"/admin/assistant/answer/{shown.pk}/change/").status_code == 200


def test_answers_cannot_be_changed_or_deleted_even_by_a_superuser(admin_client, alice, corpora):
    answer = ask(alice, faithful)
    assert admin_client.get("/admin/assistant/answer/add/").status_code == 403
    url = f"/admin/assistant/answer/{answer.pk}/"
    assert admin_client.post(url + "change/", {"question": "edited"}).status_code == 403
    assert admin_client.post(url + "delete/", {"post": "yes"}).status_code == 403
    answer.refresh_from_db()
    assert answer.question.startswith("Which beneficial owners")


def test_a_practitioner_has_no_answer_admin(alice, corpora):
    client = Client()
    client.force_login(alice)
    assert client.get("/admin/assistant/answer/").status_code == 302
