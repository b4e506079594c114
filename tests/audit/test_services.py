from __future__ import annotations

import pytest
from django.db import transaction

from apps.audit.hashing import GENESIS, event_hash
from apps.audit.models import Event
from apps.audit.services import AuditError, checkpoint_create, event_record
from apps.audit.verification import audit_verify
from tests.audit.conftest import answer_recorded


def test_events_are_numbered_and_linked_one_after_another(db, carol):
    first = event_record(action="test.first")
    second = event_record(action="test.second", actor=carol, payload={"answer": 3})

    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS and second.prev_hash == first.hash
    assert second.hash == event_hash(first.hash, second.chained())
    assert (second.actor_id, second.actor, second.role) == (carol.pk, "carol", "auditor")
    assert first.role == "system"
    assert audit_verify().ok


def test_an_event_names_its_object(db, corpus_a):
    event = event_record(action="corpus.renamed", obj=corpus_a)
    assert (event.object_type, event.object_id) == ("corpora.corpus", str(corpus_a.pk))


def test_an_action_and_its_event_are_committed_together_or_not_at_all(db, corpus_a):
    with pytest.raises(RuntimeError), transaction.atomic():
        event_record(action="corpus.renamed", obj=corpus_a)
        raise RuntimeError("the action failed after its event was written")
    assert not Event.objects.filter(action="corpus.renamed").exists()


def test_an_answer_is_hashed_and_its_event_holds_the_hash(db, asker):
    answer = answer_recorded(asker)
    event = Event.objects.get(action="answer.recorded")

    assert len(answer.content_hash) == 64
    assert event.payload["content_hash"] == answer.content_hash
    assert (event.object_type, event.object_id) == ("assistant.answer", str(answer.pk))
    assert "question" in event.payload["fields"] and "content_hash" not in event.payload["fields"]
    assert audit_verify().records["assistant.answer"] == 1


def test_a_checkpoint_signs_the_head(db, settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_PATH = tmp_path / "key.pem"
    with pytest.raises(AuditError, match="nothing to sign"):
        checkpoint_create()
    event_record(action="test.done")
    checkpoint = checkpoint_create()
    head = Event.objects.get()
    assert (checkpoint.seq, checkpoint.hash) == (1, head.hash)
    assert (tmp_path / "key.pem").stat().st_mode & 0o777 == 0o600
    assert audit_verify().ok and audit_verify().checkpoints == 1
