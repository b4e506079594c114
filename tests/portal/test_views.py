from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from apps.corpora.models import Document

RULE = "1.1.2 A Relevant Person must identify every beneficial owner."
TEXT = f"# Rules\n\n1.1.1 Customer due diligence comes first.\n\n{RULE}\n"


def make_document(corpus, text: str = TEXT) -> Document:
    return Document.objects.create(
        corpus=corpus,
        external_id="rules.md",
        title="Anti-Money Laundering Rules",
        citation_label="AML Rules",
        text=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
    )


def document_url(document: Document, **span) -> str:
    query = "&".join(f"{key}={value}" for key, value in span.items())
    return f"/documents/{document.pk}/" + (f"?{query}" if query else "")


@pytest.mark.parametrize("url", ["/", "/documents/1/?start=0&end=4"])
def test_pages_require_logging_in(db, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/")


def test_logging_in_through_the_form_leads_to_the_ask_page(alice):
    client = Client()
    assert b'for="id_username"' in client.get("/login/").content
    response = client.post("/login/", {"username": "alice", "password": "alice-pw"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_a_wrong_password_is_refused_with_a_message(alice):
    response = Client().post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content


def test_logging_out_takes_a_post_and_ends_the_session(alice, login):
    client = login(alice)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_the_ask_page_offers_only_the_readable_corpora_all_checked(alice, corpus_b, login):
    response = login(alice).get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="a" checked' in page and "Corpus A" in page
    assert 'value="b"' not in page and "Corpus B" not in page
    assert 'aria-live="polite"' in page and "portal/ask.js" in page


def test_an_auditor_who_reads_no_corpus_is_taken_to_the_review_queue(carol, login):
    response = login(carol).get("/")
    assert response.status_code == 302 and response["Location"] == "/review/"


def test_the_ask_page_explains_when_no_corpus_is_readable(django_user_model, corpus_a, login):
    nobody = django_user_model.objects.create_user("nobody", password="nobody-pw")
    page = login(nobody).get("/").content.decode()
    assert "You may not read any corpus yet; ask a corpus admin for access" in page
    assert "<textarea" not in page and "Corpus A" not in page


def test_the_document_marks_exactly_the_cited_characters(alice, corpus_a, login):
    document = make_document(corpus_a)
    start = TEXT.index(RULE)
    response = login(alice).get(document_url(document, start=start, end=start + len(RULE)))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<mark id="cited" tabindex="-1" autofocus>{RULE}</mark>' in page
    assert "AML Rules" in page and "Anti-Money Laundering Rules" in page
    assert "Customer due diligence comes first." in page


@pytest.mark.parametrize(
    "span",
    [
        {},
        {"start": "x", "end": "5"},
        {"start": "5"},
        {"start": "-1", "end": "5"},
        {"start": "5", "end": "5"},
        {"start": "9", "end": "5"},
        {"start": "0", "end": str(len(TEXT) + 1)},
    ],
)
def test_a_span_that_does_not_fit_leaves_the_text_unmarked(alice, corpus_a, login, span):
    document = make_document(corpus_a)
    page = login(alice).get(document_url(document, **span)).content.decode()
    assert "<mark" not in page and RULE in page
    assert ("nothing is marked" in page) == bool(span)


def test_a_document_in_an_unreadable_corpus_is_not_found(alice, corpus_b, login):
    document = make_document(corpus_b)
    client = login(alice)
    assert client.get(document_url(document, start=0, end=4)).status_code == 404
    assert client.get("/documents/999999/").status_code == 404


def test_document_text_renders_inert(alice, corpus_a, login):
    text = "Before <script>alert(1)</script> middle <b>bold</b> after"
    document = make_document(corpus_a, text)
    start = text.index("<script>")
    end = text.index(" after")
    page = login(alice).get(document_url(document, start=start, end=end)).content.decode()
    assert "<script>alert" not in page and "<b>bold" not in page
    assert (
        '<mark id="cited" tabindex="-1" autofocus>'
        "&lt;script&gt;alert(1)&lt;/script&gt; middle &lt;b&gt;bold&lt;/b&gt;</mark>"
    ) in page


def test_each_reading_of_a_document_is_recorded(alice, corpus_a, login):
    from apps.audit.models import Event

    document = make_document(corpus_a)
    login(alice).get(document_url(document, start=0, end=6))
    event = Event.objects.get(action="document.viewed")
    assert (event.actor, event.object_id) == ("alice", str(document.pk))
    assert event.payload == {"corpus": "a", "version": 1, "span": [0, 6]}


def cited_answer(asker, document: Document, *, cited: bool = True):
    """An answer of `asker` whose source 1 is the rule of `document` (cited or not) and whose
    source 2 is its first sentence, never cited."""
    from apps.assistant.models import Answer
    from apps.audit.services import record_event, record_seal

    start = TEXT.index(RULE)
    first = TEXT.index("1.1.1")
    hits = [
        {
            "number": 1,
            "label": "AML 1.1.2",
            "chunk_id": 1,
            "corpus": document.corpus.slug,
            "document_id": document.pk,
            "char_start": start,
            "char_end": start + len(RULE),
            "content_hash": "h1",
            "text": RULE,
        },
        {
            "number": 2,
            "label": "AML 1.1.1",
            "chunk_id": 2,
            "corpus": document.corpus.slug,
            "document_id": document.pk,
            "char_start": first,
            "char_end": start - 2,
            "content_hash": "h2",
            "text": TEXT[first : start - 2],
        },
    ]
    statement = {
        "text": RULE,
        "citations": [1] if cited else [],
        "quote": None,
        "shown": cited,
        "reason": "supported",
        "verdicts": [],
    }
    answer = Answer(
        asker=asker,
        question="Who?",
        corpora=["a"],
        hits=hits,
        backend="scripted",
        statements=[statement],
        status="answered",
    )
    record_seal(record=answer)
    answer.save(force_insert=True)
    record_event(record=answer, actor=asker)
    return answer


def test_an_auditor_opens_exactly_the_cited_passage_and_nothing_else(alice, carol, corpus_a, login):
    from apps.audit.models import Event

    document = make_document(corpus_a)
    answer = cited_answer(alice, document)
    start = TEXT.index(RULE)
    client = login(carol)

    assert client.get(document_url(document, start=start, end=start + 5)).status_code == 404
    page = client.get(
        document_url(document, answer=answer.pk, start=start, end=start + len(RULE))
    ).content.decode()

    assert f'<mark id="cited" tabindex="-1" autofocus>{RULE}</mark>' in page
    assert "Customer due diligence comes first." not in page
    assert "the rest of the document is not shown" in page
    event = Event.objects.get(action="citation.viewed")
    assert (event.actor, event.object_id) == ("carol", str(answer.pk))
    assert event.payload["source"] == 1 and event.payload["chunk"] == 1


@pytest.mark.parametrize(
    "span",
    [
        lambda start: {"start": TEXT.index("1.1.1"), "end": TEXT.index("1.1.1") + 5},
        lambda start: {"start": 0, "end": len(TEXT)},
        lambda start: {"start": start},
        lambda start: {},
    ],
    ids=["an uncited source", "the whole document", "no end", "no span"],
)
def test_an_auditor_opens_no_other_part_of_a_document(alice, carol, corpus_a, login, span):
    document = make_document(corpus_a)
    answer = cited_answer(alice, document)
    url = document_url(document, answer=answer.pk, **span(TEXT.index(RULE)))
    assert login(carol).get(url).status_code == 404


def test_an_answer_that_cites_nothing_opens_nothing(alice, carol, corpus_a, login):
    document = make_document(corpus_a)
    answer = cited_answer(alice, document, cited=False)
    start = TEXT.index(RULE)
    url = document_url(document, answer=answer.pk, start=start, end=start + len(RULE))
    assert login(carol).get(url).status_code == 404


def test_a_practitioner_whose_grant_was_revoked_cannot_use_the_auditors_way_in(
    alice, corpus_a, login
):
    from apps.accounts.services import corpus_access_revoke

    document = make_document(corpus_a)
    answer = cited_answer(alice, document)
    corpus_access_revoke(corpus=corpus_a, user=alice)
    start = TEXT.index(RULE)
    url = document_url(document, answer=answer.pk, start=start, end=start + len(RULE))
    assert login(alice).get(url).status_code == 404
