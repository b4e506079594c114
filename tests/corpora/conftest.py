from __future__ import annotations

import pytest

from apps.corpora import services

RULES_V1 = """# Conduct of Business Rules

## 1 Application

1.1.1 These Rules apply to every Authorised Person carrying on a Regulated Activity
in or from the ADGM.

1.1.2 A Person must not carry on a Regulated Activity unless it holds a Financial
Services Permission.

## 2 Client classification

2.1.1 An Authorised Person must classify each Client as a Retail Client, a Professional
Client or a Market Counterparty before providing a service.

2.1.2 The classification must be recorded and reviewed at least once every 12 months.
"""

RULES_V2 = RULES_V1.replace("at least once every 12 months", "at least once every 6 months")


@pytest.fixture
def corpus(db):
    return services.corpus_create(slug="alpha", name="Alpha rules", domain="regulatory")


@pytest.fixture
def rules_file(tmp_path):
    path = tmp_path / "cobs.md"
    path.write_text(RULES_V1)
    return path


def ingest(corpus, *paths):
    """Run an ingestion job through the task queue (immediate in tests); returns the job."""
    from apps.corpora import tasks

    job = services.ingestion_job_create(corpus=corpus, paths=[str(p) for p in paths])
    tasks.ingest.enqueue(job.pk)
    job.refresh_from_db()
    return job
