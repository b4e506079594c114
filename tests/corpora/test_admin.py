from __future__ import annotations

import pytest

from apps.corpora.models import Chunk, Document
from tests.corpora.conftest import ingest


@pytest.fixture
def ingested(corpus, rules_file, tmp_path):
    bad = tmp_path / "empty.txt"
    bad.write_text("")
    return ingest(corpus, rules_file, bad)


def test_the_admin_shows_job_progress_and_errors(admin_client, ingested):
    listing = admin_client.get("/admin/corpora/ingestionjob/")
    detail = admin_client.get(f"/admin/corpora/ingestionjob/{ingested.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    assert b'<progress max="100" value="100">' in listing.content
    assert b"empty.txt: empty file" in detail.content


@pytest.mark.parametrize("model", ["corpus", "document", "chunk"])
def test_the_admin_lists_corpora_documents_and_chunks(admin_client, ingested, model):
    response = admin_client.get(f"/admin/corpora/{model}/")
    assert response.status_code == 200
    assert b"cobs.md" in response.content or b"alpha" in response.content


def test_document_and_chunk_pages_open(admin_client, ingested):
    document = Document.objects.get()
    chunk = Chunk.objects.first()
    assert admin_client.get(f"/admin/corpora/document/{document.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/corpora/chunk/{chunk.pk}/change/").status_code == 200
