"""The canary matrix: a string planted in one corpus (medical, corpus B) is read only where the
reader may read it, on every surface, and every read that shows it leaves an event by the
reader. Roles: bob holds the grant for B, alice does not, carol is an auditor, admin a
superuser, and an anonymous client."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.test import Client

from apps.assistant.models import Answer
from apps.assistant.presenters import quote_span
from apps.audit.models import Event
from apps.corpora.models import Chunk, Document
from apps.review.selectors import citations_of
from apps.review.services import review_save, review_sign_off
from tests.assistant.conftest import answer_json, generator  # noqa: F401
from tests.retrieval.conftest import CANARY, corpora  # noqa: F401

CANARY_SENTENCE = f"The {CANARY} protocol records every dose given in the first hour."
# The canary is never in what is asked or searched: a reader meets it only in the corpus.
CANARY_QUESTION = "Which protocol records every dose given in the first hour?"
OTHER_QUESTION = "What blood pressure indicates hypertension?"
PRESSURE_SENTENCE = (
    "Blood pressure above 140/90 mmHg on repeated measurement indicates hypertension."
)


def cite(sentence: str):
    """A generator script: the sentence, quoted from the source that holds it."""

    def script(prompt):
        numbers = [s.number for s in prompt.sources if sentence in " ".join(s.hit.text.split())]
        if not numbers:  # a reader of other corpora: the sentence is not in their sources
            return [answer_json({"text": sentence, "citations": [1]})]
        return [answer_json({"text": sentence, "citations": numbers[:1], "quote": sentence})]

    return script


@dataclass
class World:
    cited: Answer  # bob's answer citing the canary passage
    uncited: Answer  # bob's answer that retrieved the canary passage but cites another
    document: Document
    chunk: Chunk


@pytest.fixture
def world(corpora, alice, bob, carol, generator, login, settings, tmp_path):  # noqa: F811
    settings.AUDIT_SIGNING_KEY_PATH = tmp_path / "audit-key.pem"
    client = login(bob)
    generator(cite(CANARY_SENTENCE))
    cited = Answer.objects.get(pk=ask(client, CANARY_QUESTION).json()["id"])
    generator(cite(PRESSURE_SENTENCE))
    uncited = Answer.objects.get(pk=ask(client, OTHER_QUESTION).json()["id"])
    assert any(CANARY in hit["text"] for hit in uncited.hits), "the canary passage was retrieved"
    assert all(CANARY not in s["text"] for s in uncited.statements)
    labels = [{"statement": s, "source": n, "label": "correct"} for s, n in citations_of(cited)]
    review_sign_off(review=review_save(reviewer=carol, answer=cited, labels=labels), reviewer=carol)
    generator(cite(CANARY_SENTENCE))
    chunk = Chunk.objects.get(text__contains=CANARY)
    return World(cited, uncited, chunk.document, chunk)


def ask(client, question, **extra):
    return client.post(
        "/api/v1/answers", {"question": question, **extra}, content_type="application/json"
    )


def cited_span(world: World) -> str:
    hit = next(h for h in world.cited.hits if CANARY in h["text"])
    start, end = quote_span(hit["text"], CANARY_SENTENCE)
    return f"start={hit['char_start'] + start}&end={hit['char_start'] + end}"


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


SURFACES = {
    "search API": lambda c, w: c.post(
        "/api/v1/search", {"query": "protocol records every dose"}, content_type="application/json"
    ),
    "answers API": lambda c, w: ask(c, CANARY_QUESTION),
    "answers SSE": lambda c, w: ask(c, CANARY_QUESTION, stream=True),
    "answer, cited": lambda c, w: c.get(f"/api/v1/answers/{w.cited.pk}"),
    "answer, retrieved not cited": lambda c, w: c.get(f"/api/v1/answers/{w.uncited.pk}"),
    "document page": lambda c, w: c.get(f"/documents/{w.document.pk}/"),
    "cited passage page": lambda c, w: c.get(
        f"/documents/{w.document.pk}/?answer={w.cited.pk}&{cited_span(w)}"
    ),
    "uncited passage page": lambda c, w: c.get(
        f"/documents/{w.document.pk}/?answer={w.uncited.pk}&{cited_span(w)}"
    ),
    "admin document list": lambda c, w: c.get("/admin/corpora/document/"),
    "admin document page": lambda c, w: c.get(f"/admin/corpora/document/{w.document.pk}/change/"),
    "admin chunk list": lambda c, w: c.get("/admin/corpora/chunk/"),
    "admin chunk page": lambda c, w: c.get(f"/admin/corpora/chunk/{w.chunk.pk}/change/"),
    "admin answer list": lambda c, w: c.get("/admin/assistant/answer/"),
    "admin answer page": lambda c, w: c.get(f"/admin/assistant/answer/{w.uncited.pk}/change/"),
    "review queue": lambda c, w: c.get("/review/"),
    "review page, cited": lambda c, w: c.get(f"/review/answers/{w.cited.pk}/"),
    "review page, not cited": lambda c, w: c.get(f"/review/answers/{w.uncited.pk}/"),
    "reviews CSV": lambda c, w: c.get("/review/exports/reviews.csv"),
    "reviews JSONL": lambda c, w: c.get("/review/exports/reviews.jsonl"),
    "audit report": lambda c, w: c.get("/review/report/"),
}
SEES = {
    "bob": {
        "search API",
        "answers API",
        "answers SSE",
        "answer, cited",
        "answer, retrieved not cited",
        "document page",
        "cited passage page",
        "uncited passage page",
    },
    "alice": set(),
    "carol": {
        "answer, cited",
        "cited passage page",
        "review page, cited",
        "reviews CSV",
        "reviews JSONL",
    },
    "admin": {
        "search API",
        "answers API",
        "answers SSE",
        "answer, cited",
        "answer, retrieved not cited",
        "document page",
        "cited passage page",
        "uncited passage page",
        "admin document page",
        "admin chunk page",
        "admin answer page",
        "review page, cited",
        "reviews CSV",
        "reviews JSONL",
    },
    "anonymous": set(),
}


@pytest.mark.parametrize("role", list(SEES))
def test_the_canary_is_read_only_where_permitted_and_every_read_is_recorded(
    world, role, alice, bob, carol, admin_user, login
):
    users = {"alice": alice, "bob": bob, "carol": carol, "admin": admin_user}
    client = login(users[role]) if role in users else Client()
    seen, unrecorded = set(), []
    for surface, request in SURFACES.items():
        before = Event.objects.order_by("-seq").values_list("seq", flat=True).first()
        response = request(client, world)
        text = body(response)
        if CANARY in text or CANARY in json.dumps(text):
            seen.add(surface)
            if not Event.objects.filter(seq__gt=before, actor=role).exists():
                unrecorded.append(surface)
    assert seen == SEES[role], f"{role} read the canary on {sorted(seen)}"
    assert not unrecorded, f"{role} read the canary without an event on {unrecorded}"
