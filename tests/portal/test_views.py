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


def test_the_ask_page_explains_when_no_corpus_is_readable(carol, corpus_a, login):
    page = login(carol).get("/").content.decode()
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
