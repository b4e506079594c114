from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.corpora.models import Corpus, Document, IngestionJob, JobStatus
from tests.corpora import pdf_samples


def run_ingest(*paths, corpus="alpha"):
    out, err = StringIO(), StringIO()
    call_command("ingest", *map(str, paths), corpus=corpus, wait=True, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_ingest_reports_counts_and_a_finished_progress_bar(corpus, rules_file):
    out, err = run_ingest(rules_file)

    assert "Succeeded: 1 new, 0 new version(s), 0 unchanged" in out
    assert "100%" in err
    job = IngestionJob.objects.get()
    assert (job.status, job.progress_done, job.progress_total) == (
        JobStatus.SUCCEEDED,
        job.chunks_written,
        job.chunks_written,
    )


def test_without_wait_the_job_is_queued_and_named(corpus, rules_file, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    out = StringIO()
    call_command("ingest", str(rules_file), corpus="alpha", stdout=out)

    job = IngestionJob.objects.get()
    assert job.status == JobStatus.QUEUED and job.task_result_id
    assert f"/admin/corpora/ingestionjob/{job.pk}/" in out.getvalue()


def test_an_unknown_corpus_is_refused_with_the_known_ones(corpus, rules_file):
    with pytest.raises(CommandError, match=r"unknown corpus 'nope' \(known: alpha\)"):
        run_ingest(rules_file, corpus="nope")
    assert not IngestionJob.objects.exists()


def test_a_folder_contributes_its_supported_files(corpus, tmp_path):
    (tmp_path / "a.txt").write_text("Rule one applies to every bank.")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "b.md").write_text("# B\n\nRule two applies to every insurer.")
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")

    run_ingest(tmp_path)

    assert sorted(Document.objects.values_list("external_id", flat=True)) == ["a.txt", "b.md"]


@pytest.fixture
def bad_files(tmp_path):
    files = {
        "empty.txt": b"",
        "binary.txt": bytes(range(256)) * 8,
        "encrypted.pdf": pdf_samples.encrypted_pdf(
            ["Privileged and confidential."], user_password="s3cret"
        ),
        "corrupt.pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nthis is not a pdf",
        "oversize.txt": b"A long text. " * 2000,
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    good = tmp_path / "good.txt"
    good.write_text("Every Authorised Person must keep records for six years.")
    lines = [
        json.dumps({"id": "d1", "title": "First", "text": "The first rule binds banks."}),
        '{"id": "d2", "title": "Broken", "text": "unterminated',
        json.dumps({"id": "d3", "title": "Third", "text": "The third rule binds insurers."}),
    ]
    (tmp_path / "bulk.jsonl").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_bad_files_are_named_and_the_good_ones_still_go_in(corpus, bad_files, settings):
    settings.INGEST_MAX_BYTES = 20_000

    out, err = run_ingest(bad_files)

    assert "Finished with errors" in out
    assert "empty.txt: empty file" in err
    assert "binary.txt: binary content" in err
    assert "encrypted.pdf: encrypted PDF" in err
    assert "corrupt.pdf: corrupt or unreadable PDF" in err
    assert "oversize.txt: file is" in err and "INGEST_MAX_BYTES" in err
    assert "bulk.jsonl line 2: invalid JSON" in err
    stored = set(Document.objects.values_list("external_id", flat=True))
    assert stored == {"good.txt", "d1", "d3"}
    job = IngestionJob.objects.get()
    assert len(job.errors) == 6
    assert job.status == JobStatus.PARTIAL


def test_create_corpus_validates_its_input(db):
    call_command("create_corpus", "case-law", name="Case law", domain="legal", stdout=StringIO())
    assert Corpus.objects.filter(slug="case-law", domain="legal").exists()
    with pytest.raises(CommandError, match="cannot create corpus 'case-law': slug"):
        call_command("create_corpus", "case-law", name="Again", domain="legal")
