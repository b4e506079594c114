"""The admin's corpus pages follow corpus grants; grants made there leave their events."""

from __future__ import annotations

import hashlib

import pytest

from apps.accounts.models import CorpusAccess, Role
from apps.accounts.services import role_assign
from apps.audit.models import Event
from apps.corpora.models import Document

SECRET = "zebracanary dosing schedule"


@pytest.fixture
def documents(corpus_a, corpus_b):
    return [
        Document.objects.create(
            corpus=corpus,
            external_id=f"{corpus.slug}.md",
            title=f"Title {corpus.slug}",
            citation_label=f"Label {corpus.slug}",
            text=f"{SECRET} of {corpus.slug}",
            sha256=hashlib.sha256(corpus.slug.encode()).hexdigest(),
        )
        for corpus in (corpus_a, corpus_b)
    ]


def test_the_auditor_reads_no_document_or_chunk_in_the_admin(carol, documents, login):
    client = login(carol)
    for url in (
        "/admin/corpora/document/",
        f"/admin/corpora/document/{documents[0].pk}/change/",
        "/admin/corpora/chunk/",
    ):
        response = client.get(url)
        assert response.status_code == 403 and SECRET not in response.content.decode()


def test_a_corpus_admin_reads_only_the_corpora_granted_to_them(alice, documents, login):
    role_assign(user=alice, role=Role.CORPUS_ADMIN)
    client = login(alice)
    listing = client.get("/admin/corpora/document/").content.decode()
    assert "Label a" in listing and "Label b" not in listing
    assert client.get(f"/admin/corpora/document/{documents[0].pk}/change/").status_code == 200
    other = client.get(f"/admin/corpora/document/{documents[1].pk}/change/")
    assert other.status_code == 302 and SECRET not in other.content.decode()


def test_the_superuser_reads_every_corpus(admin_client, documents):
    listing = admin_client.get("/admin/corpora/document/").content.decode()
    assert "Label a" in listing and "Label b" in listing


def test_a_grant_removed_in_the_admin_is_revoked_with_its_event(admin_client, alice, corpus_a):
    grant = CorpusAccess.objects.get(user=alice, corpus=corpus_a)
    admin_client.post(f"/admin/accounts/corpusaccess/{grant.pk}/delete/", {"post": "yes"})
    assert not CorpusAccess.objects.exists()
    assert Event.objects.filter(action="grant.revoked", actor="admin").count() == 1


def test_a_grant_added_in_the_admin_is_given_with_its_event(admin_client, bob, corpus_a):
    admin_client.post("/admin/accounts/corpusaccess/add/", {"corpus": corpus_a.pk, "user": bob.pk})
    assert CorpusAccess.objects.filter(user=bob, corpus=corpus_a).exists()
    assert Event.objects.filter(action="grant.given", actor="admin").count() == 1
