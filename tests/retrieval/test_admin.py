from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.retrieval.models import Bm25Index


def test_the_admin_lists_bm25_generations_without_their_payload(admin_client, corpora):
    row = Bm25Index.objects.get(corpus=corpora[0])

    with CaptureQueriesContext(connection) as queries:
        listing = admin_client.get("/admin/retrieval/bm25index/")
        detail = admin_client.get(f"/admin/retrieval/bm25index/{row.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    assert b"ready" in listing.content and str(row.chunk_count).encode() in listing.content
    assert b"field-chunk_count" in detail.content and b"field-build_seconds" in detail.content
    assert b"field-size_bytes" in detail.content and str(row.size_bytes).encode() in detail.content
    assert b"payload" not in listing.content.lower() and b"payload" not in detail.content.lower()
    assert not [q["sql"] for q in queries if '"payload"' in q["sql"]]


def test_bm25_generations_are_read_only_in_the_admin(admin_client, corpora):
    row = Bm25Index.objects.get(corpus=corpora[0])

    assert admin_client.get("/admin/retrieval/bm25index/add/").status_code == 403
    response = admin_client.post(
        f"/admin/retrieval/bm25index/{row.pk}/change/", {"status": "failed", "generation": 9}
    )
    assert response.status_code == 403
    assert admin_client.post(f"/admin/retrieval/bm25index/{row.pk}/delete/").status_code == 403
    row.refresh_from_db()
    assert (row.status, row.generation) == ("ready", 1)
