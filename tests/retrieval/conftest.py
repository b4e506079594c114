from __future__ import annotations

import pytest
from pgvector.django import CosineDistance

from apps.corpora.models import Chunk
from tests.corpora.conftest import ingest

CANARY = "zebracanary"

CORPUS_A_TEXT = """# Anti-Money Laundering Rules

## 1 Customer due diligence

1.1.1 A Relevant Person must undertake Customer Due Diligence (CDD) before establishing a
business relationship with a customer.

1.1.2 A Relevant Person must identify every beneficial owner holding 25% or more of a
legal person that is its customer.

## 2 Politically exposed persons

2.1.1 Enhanced due diligence applies to every Politically Exposed Person (PEP) and to
their family members and close associates.

## 3 Record keeping

3.1.1 Records of customer due diligence must be kept for at least six years after the
business relationship ends.
"""

CORPUS_B_TEXT = f"""# Clinical guidance

## Myocardial infarction

Patients with a myocardial infarction should receive aspirin unless contraindicated. The
{CANARY} protocol records every dose given in the first hour.

## Hypertension

Blood pressure above 140/90 mmHg on repeated measurement indicates hypertension.
"""


@pytest.fixture
def corpora(corpus_a, corpus_b, tmp_path):
    a = tmp_path / "aml.md"
    a.write_text(CORPUS_A_TEXT)
    b = tmp_path / "clinical.md"
    b.write_text(CORPUS_B_TEXT)
    ingest(corpus_a, a)
    ingest(corpus_b, b)
    return corpus_a, corpus_b


def readable_chunks(corpus_ids, filters):
    """The chunks a search of `corpus_ids` with `filters` may return, through the ORM: the
    legs' SQL is checked against it."""
    conditions = {
        "document__external_id__in": filters.documents,
        "document__doc_type__in": filters.doc_types,
        "document__jurisdiction__in": filters.jurisdictions,
        "document__date__gte": filters.date_from,
        "document__date__lte": filters.date_to,
    }
    return Chunk.objects.filter(
        corpus_id__in=corpus_ids,
        document__status="active",
        **{lookup: value for lookup, value in conditions.items() if value},
    )


def nearest(vector, corpus_ids, filters, k):
    """The vector leg's ranking for one vector, by a query of its own."""
    rows = (
        readable_chunks(corpus_ids, filters)
        .annotate(distance=CosineDistance("embedding", vector))
        .order_by("distance")
        .values_list("id", "distance")[:k]
    )
    return [(chunk_id, 1.0 - distance) for chunk_id, distance in rows]
