"""Upgrading makes the answers recorded before the audit trail into records: each gets its
content hash and an answer.recorded event (marked backfilled), and the trail verifies."""

from __future__ import annotations

import pytest

from tests.migrations import migrate


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_answers_recorded_before_the_trail_are_sealed_on_upgrade(django_user_model):
    from apps.audit.models import Event
    from apps.audit.verification import audit_verify

    asker = django_user_model.objects.create_user("asker")
    try:
        old = migrate("assistant", "0003_answer_replay_and_conflict")
        answer = old.get_model("assistant", "Answer").objects.create(
            asker_id=asker.pk,
            question="How long are records kept?",
            corpora=["a"],
            hits=[{"number": 1, "text": "Six years.", "score": 0.5}],
            backend="extractive",
            status="answered",
            timings={"total": 1.0},
        )

        migrate("assistant")
        migrate("review")

        from apps.assistant.models import Answer

        sealed = Answer.objects.get(pk=answer.pk)
        event = Event.objects.get(action="answer.recorded", object_id=str(answer.pk))
        assert len(sealed.content_hash) == 64 and event.payload["backfilled"] is True
        assert event.payload["content_hash"] == sealed.content_hash
        assert audit_verify().ok
    finally:
        migrate("assistant")
        migrate("review")
