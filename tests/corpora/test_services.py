from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.corpora import services
from apps.corpora.models import Chunk, Document, DocumentStatus, IngestionJob, JobStatus
from apps.retrieval.models import Bm25Index as Bm25IndexRow
from apps.retrieval.models import Bm25IndexStatus
from tests.corpora import pdf_samples
from tests.corpora.conftest import RULES_V1, RULES_V2, ingest


def active_chunks(corpus):
    return Chunk.objects.filter(corpus=corpus, document__status=DocumentStatus.ACTIVE)


def test_ingest_stores_exact_offsets_and_normalised_embeddings(corpus, rules_file, embedder):
    job = ingest(corpus, rules_file)

    assert job.status == JobStatus.SUCCEEDED, job.errors
    document = Document.objects.get(corpus=corpus)
    assert (document.version, document.status, document.external_id) == (1, "active", "cobs.md")
    assert document.text == RULES_V1
    assert document.sha256 == services.text_sha256(RULES_V1)
    chunks = list(document.chunks.all())
    assert len(chunks) == job.chunks_written > 0
    for chunk in chunks:
        assert document.text[chunk.char_start : chunk.char_end] == chunk.text
        assert chunk.token_count <= embedder.window
        assert np.linalg.norm(chunk.embedding) == pytest.approx(1.0, abs=1e-3)
    corpus.refresh_from_db()
    assert (corpus.embedding_model, corpus.embedding_dim) == (embedder.name, 384)


def test_reingesting_an_unchanged_file_changes_nothing(corpus, rules_file):
    ingest(corpus, rules_file)
    before = list(Chunk.objects.values_list("id", "content_hash"))

    job = ingest(corpus, rules_file)

    assert (job.documents_unchanged, job.documents_created, job.documents_updated) == (1, 0, 0)
    assert job.chunks_written == job.chunks_embedded == 0
    assert list(Chunk.objects.values_list("id", "content_hash")) == before
    assert Document.objects.count() == 1


def test_a_changed_file_becomes_a_new_version_and_reuses_unchanged_embeddings(corpus, rules_file):
    first = ingest(corpus, rules_file)
    rules_file.write_text(RULES_V2)

    job = ingest(corpus, rules_file)

    assert job.documents_updated == 1
    old, new = Document.objects.order_by("version")
    assert (old.status, new.status, new.version) == ("superseded", "active", 2)
    assert old.superseded_at is not None
    assert "6 months" in " ".join(active_chunks(corpus).values_list("text", flat=True))
    assert not active_chunks(corpus).filter(text__contains="12 months").exists()
    # The old version's chunks stay for replaying old answers, but are no longer current.
    assert old.chunks.count() == first.chunks_written
    assert job.chunks_embedded < job.chunks_written
    assert job.chunks_reused == job.chunks_written - job.chunks_embedded


def test_a_failure_while_writing_leaves_the_old_version_whole(corpus, rules_file, monkeypatch):
    ingest(corpus, rules_file)
    old_chunks = set(Chunk.objects.values_list("id", flat=True))
    rules_file.write_text(RULES_V2)
    real_chunk_row = services.chunk_row
    written = []

    def failing_chunk_row(document, draft, vector):
        written.append(draft)
        if len(written) == 2:
            raise RuntimeError("disk full")
        return real_chunk_row(document, draft, vector)

    monkeypatch.setattr(services, "chunk_row", failing_chunk_row)
    job = ingest(corpus, rules_file)

    assert job.status == JobStatus.FAILED
    assert job.errors == ["ingestion stopped: RuntimeError: disk full"]

    document = Document.objects.get(corpus=corpus)
    assert (document.version, document.status, document.text) == (1, "active", RULES_V1)
    assert set(Chunk.objects.values_list("id", flat=True)) == old_chunks


def test_the_database_allows_one_active_version_per_document(corpus, rules_file):
    ingest(corpus, rules_file)
    document = Document.objects.get()
    document.pk, document.version = None, 2
    with pytest.raises(IntegrityError), transaction.atomic():
        document.save()


def test_retired_documents_are_replaced_by_a_new_version_on_reingest(corpus, rules_file):
    ingest(corpus, rules_file)
    Document.objects.update(status=DocumentStatus.RETIRED)

    job = ingest(corpus, rules_file)

    assert job.documents_created == 1
    assert list(Document.objects.values_list("version", "status")) == [
        (2, "active"),
        (1, "retired"),
    ]


def test_pdf_chunks_carry_their_page_numbers(corpus, tmp_path):
    pages = [
        f"Page {n}. " + " ".join(f"Clause {n}.{i} requires notice in writing." for i in range(60))
        for n in (1, 2, 3)
    ]
    path = tmp_path / "contract.pdf"
    path.write_bytes(pdf_samples.text_pdf(pages, title="Master Services Agreement"))

    job = ingest(corpus, path)

    document = Document.objects.get()
    assert job.status == JobStatus.SUCCEEDED and document.title == "Master Services Agreement"
    chunks = list(document.chunks.all())
    assert {c.page_start for c in chunks} | {c.page_end for c in chunks} == {1, 2, 3}
    for chunk in chunks:
        page_breaks_before = document.text[: chunk.char_start].count("\f")
        assert chunk.page_start == page_breaks_before + 1
        assert chunk.page_end == chunk.page_start + chunk.text.count("\f")


def test_a_document_with_an_overlong_title_is_unchanged_on_reingest(corpus, tmp_path):
    path = tmp_path / "bulk.jsonl"
    record = {"id": "long", "title": "T" * 800, "text": "A firm must keep records."}
    path.write_text(json.dumps(record) + "\n")
    ingest(corpus, path)

    job = ingest(corpus, path)

    assert job.documents_unchanged == 1 and Document.objects.count() == 1
    assert Document.objects.get().title == "T" * 500


def running_job(corpus, *, silent_for: timedelta, started_before: timedelta | None = None):
    now = timezone.now()
    return IngestionJob.objects.create(
        corpus=corpus,
        status=JobStatus.RUNNING,
        started_at=now - (started_before or silent_for),
        heartbeat_at=now - silent_for,
    )


def test_a_job_silent_past_the_limit_is_failed_with_the_reason(corpus, settings):
    settings.INGEST_STALE_SECONDS = 300
    silent = running_job(corpus, silent_for=timedelta(minutes=6))
    beating = running_job(corpus, silent_for=timedelta(seconds=10))
    never_beat = IngestionJob.objects.create(
        corpus=corpus, status=JobStatus.RUNNING, started_at=timezone.now() - timedelta(hours=1)
    )
    done = IngestionJob.objects.create(
        corpus=corpus,
        status=JobStatus.SUCCEEDED,
        heartbeat_at=timezone.now() - timedelta(days=1),
    )

    reaped = services.ingestion_jobs_reap()

    assert {job.pk for job in reaped} == {silent.pk, never_beat.pk}
    silent.refresh_from_db()
    assert (silent.status, silent.stage) == (JobStatus.FAILED, "failed")
    assert silent.finished_at is not None
    assert "the worker stopped: no heartbeat since" in silent.errors[-1]
    assert "limit 300 s" in silent.errors[-1]
    for job, status in ((beating, JobStatus.RUNNING), (done, JobStatus.SUCCEEDED)):
        job.refresh_from_db()
        assert job.status == status and not job.errors


def test_reaping_rebuilds_the_bm25_index_of_a_corpus_the_job_wrote_to(corpus, rules_file):
    other = services.corpus_create(slug="beta", name="Beta", domain="regulatory")
    ingest(corpus, rules_file)
    Bm25IndexRow.objects.filter(corpus=corpus).delete()
    # A job that died after committing that document, before its index was built.
    wrote = running_job(corpus, silent_for=timedelta(minutes=6), started_before=timedelta(hours=1))
    running_job(other, silent_for=timedelta(minutes=6))

    services.ingestion_jobs_reap()

    index = Bm25IndexRow.objects.get(corpus=corpus)
    assert index.status == Bm25IndexStatus.READY
    assert index.chunk_count == active_chunks(corpus).count() > 0
    assert not Bm25IndexRow.objects.filter(corpus=other).exists()
    wrote.refresh_from_db()
    assert wrote.status == JobStatus.FAILED


def test_a_job_that_beats_again_before_it_is_failed_keeps_running(corpus):
    job = running_job(corpus, silent_for=timedelta(minutes=6))
    IngestionJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())

    assert services.ingestion_job_abandon(job=job, now=timezone.now()) is False

    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and not job.errors
