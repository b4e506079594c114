from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from django.conf import settings

from apps.corpora import services
from apps.corpora.models import Chunk, Document
from tests.corpora.conftest import RULES_V1, RULES_V2, ingest

KILL_AFTER_FIRST_CHUNK_BATCH = """
import os, signal, django
django.setup()
from django.db.models.query import QuerySet
from apps.corpora.pipeline import run_ingestion_job

real_bulk_create = QuerySet.bulk_create

def bulk_create_then_die(self, objs, *args, **kwargs):
    real_bulk_create(self, objs, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)

QuerySet.bulk_create = bulk_create_then_die
run_ingestion_job(int(os.environ["JOB_ID"]))
"""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_killed_ingest_leaves_the_old_version_whole(corpus, rules_file, database_url):
    ingest(corpus, rules_file)
    old_chunks = set(Chunk.objects.values_list("id", "text"))
    rules_file.write_text(RULES_V2)
    job = services.ingestion_job_create(corpus=corpus, paths=[str(rules_file)])

    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_FIRST_CHUNK_BATCH],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": database_url, "JOB_ID": str(job.pk)},
        capture_output=True,
        timeout=300,
    )

    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    document = Document.objects.get(corpus=corpus)
    assert (document.version, document.status, document.text) == (1, "active", RULES_V1)
    assert set(Chunk.objects.values_list("id", "text")) == old_chunks

    job = ingest(corpus, rules_file)
    assert job.documents_updated == 1
