"""Upgrading keeps the BM25 generations built before indexes were stored in parts."""

from __future__ import annotations

import importlib

import pytest

from tests.migrations import migrate

PAYLOAD_MIGRATION = "apps.retrieval.migrations.0002_bm25_index_parts"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_stored_payload_becomes_parts_and_back(monkeypatch):
    monkeypatch.setattr(importlib.import_module(PAYLOAD_MIGRATION), "PART_BYTES", 10)
    payload = bytes(range(256)) * 3 + b"tail"
    try:
        old = migrate("retrieval", "0001_initial")
        corpus = old.get_model("corpora", "Corpus").objects.create(slug="old", name="Old")
        row = old.get_model("retrieval", "Bm25Index").objects.create(
            corpus=corpus, generation=1, status="ready", payload=payload
        )

        new = migrate("retrieval", PAYLOAD_MIGRATION.rsplit(".", 1)[1])
        upgraded = new.get_model("retrieval", "Bm25Index").objects.get(pk=row.pk)
        parts = new.get_model("retrieval", "Bm25IndexPart").objects.filter(index_id=row.pk)
        stored = [bytes(p) for p in parts.order_by("ordinal").values_list("payload", flat=True)]
        assert upgraded.size_bytes == len(payload)
        assert len(stored) == 78 and b"".join(stored) == payload

        old = migrate("retrieval", "0001_initial")
        downgraded = old.get_model("retrieval", "Bm25Index").objects.get(pk=row.pk)
        assert bytes(downgraded.payload) == payload
    finally:
        migrate("retrieval")
