from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import transaction

from apps.audit.roles import as_owner
from apps.audit.services import record_event, record_seal

PROTECTED = ("audit_event", "audit_checkpoint", "assistant_answer")


@contextmanager
def tampering():
    """A cursor as the owner of the tables with their triggers off: what it takes to change
    the record at all, which the application role cannot do."""
    with as_owner() as connection, connection.cursor() as cursor:
        for table in PROTECTED:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        try:
            yield cursor
        finally:
            for table in PROTECTED:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def answer_recorded(user, question: str = "How long are records kept?"):
    """An answer written as the answer service writes one (assistant.services.answer_record),
    without retrieval or generation."""
    from apps.assistant.models import Answer

    with transaction.atomic():
        answer = Answer(
            asker=user,
            question=question,
            corpora=["a"],
            hits=[{"number": 1, "chunk_id": 7, "text": "Records are kept for six years."}],
            backend="scripted",
            statements=[{"text": "Six years.", "citations": [1], "shown": True}],
            status="answered",
            timings={"total": 0.25, "retrieve": 1.0},
        )
        record_seal(record=answer)
        answer.save(force_insert=True)
        record_event(record=answer, actor=user)
    return answer


@pytest.fixture
def asker(django_user_model):
    return django_user_model.objects.create_user("asker", password="asker-pw")
