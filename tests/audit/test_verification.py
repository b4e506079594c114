"""The tamper matrix: every way of changing the record around the database's protections is
found by verification, and the application role cannot make any of them at all."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import ProgrammingError, connection, transaction

from apps.audit.hashing import event_hash
from apps.audit.models import Event
from apps.audit.services import checkpoint_create, event_record
from apps.audit.verification import audit_verify
from tests.audit.conftest import answer_recorded, tampering

# Changes made as the owner are committed; the migrated roles are restored after each flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

EVENTS = 24  # 10 events, an answer's, 13 more; signed at the head


@pytest.fixture
def trail(asker, settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_PATH = tmp_path / "key.pem"
    for number in range(10):
        event_record(action="test.event", payload={"n": number})
    answer = answer_recorded(asker)
    for number in range(10, 23):
        event_record(action="test.event", actor=asker, payload={"n": number})
    checkpoint_create()
    assert Event.objects.count() == EVENTS and audit_verify().ok
    return answer


def rechain(cursor, start: int) -> None:
    """Recompute every hash from event `start` on, as someone covering their tracks would."""
    prev = Event.objects.get(seq=start - 1).hash
    for event in Event.objects.filter(seq__gte=start).order_by("seq"):
        digest = event_hash(prev, event.chained())
        cursor.execute(
            "UPDATE audit_event SET prev_hash = %s, hash = %s WHERE seq = %s",
            [prev, "x" + digest[1:], event.seq],
        )
        cursor.execute("UPDATE audit_event SET hash = %s WHERE seq = %s", [digest, event.seq])
        prev = digest


def edit_payload(cursor, answer):
    cursor.execute("""UPDATE audit_event SET payload = '{"n": 99}' WHERE seq = 5""")
    return 5


def edit_answer(cursor, answer):
    cursor.execute(
        "UPDATE assistant_answer SET question = 'What was never asked?' WHERE id = %s",
        [answer.pk],
    )
    return Event.objects.get(action="answer.recorded").seq


def delete_event(cursor, answer):
    cursor.execute("DELETE FROM audit_event WHERE seq = 7")
    return 8


def reorder_two(cursor, answer):
    cursor.execute("UPDATE audit_event SET seq = -seq WHERE seq IN (8, 9)")
    cursor.execute("UPDATE audit_event SET seq = CASE seq WHEN -8 THEN 9 ELSE 8 END WHERE seq < 0")
    return 8


def truncate_tail(cursor, answer):
    cursor.execute("DELETE FROM audit_event WHERE seq > 20")
    return 21


def insert_forged(cursor, answer):
    # Room is made at 12 by moving the later events up one, and a well-formed event planted
    # there, which the event after it then names as its predecessor.
    prev = Event.objects.get(seq=11).hash
    forged = Event(
        seq=12,
        created_at=Event.objects.get(seq=11).created_at,
        action="grant.given",
        object_type="accounts.corpusaccess",
        object_id="1",
        payload={},
        prev_hash=prev,
    )
    forged.hash = event_hash(prev, forged.chained())
    cursor.execute("UPDATE audit_event SET seq = -(seq + 1) WHERE seq >= 12")
    cursor.execute("UPDATE audit_event SET prev_hash = %s WHERE seq = -13", [forged.hash])
    cursor.execute("UPDATE audit_event SET seq = -seq WHERE seq < 0")
    forged.save(force_insert=True)
    return 13


def rewrite_chain(cursor, answer):
    cursor.execute("""UPDATE audit_event SET payload = '{"n": 99}' WHERE seq = 3""")
    rechain(cursor, 3)
    return EVENTS  # the chain holds together; only the signed head tells


TAMPERING = [
    edit_payload,
    edit_answer,
    delete_event,
    reorder_two,
    truncate_tail,
    insert_forged,
    rewrite_chain,
]


@pytest.mark.parametrize("tamper", TAMPERING, ids=lambda f: f.__name__)
def test_verification_finds_every_kind_of_tampering(trail, tamper):
    with tampering() as cursor:
        seq = tamper(cursor, trail)

    result = audit_verify()

    assert not result.ok
    assert result.first_broken.seq == seq, result.problems
    with pytest.raises(CommandError):
        call_command("verify_audit", stdout=io.StringIO())


def test_the_command_reports_the_first_broken_link(trail, capsys):
    with tampering() as cursor:
        delete_event(cursor, trail)
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    assert failure.value.returncode == 1
    out = capsys.readouterr().out
    assert "First broken link at event 8: events 7 to 7 are missing" in out
    with pytest.raises(CommandError):
        call_command("verify_audit", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["first_broken"]["seq"] == 8 and not report["ok"]


def test_an_intact_trail_verifies(trail, capsys):
    call_command("verify_audit")
    assert f"The audit trail verifies (head #{EVENTS}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "sql",
    [
        """UPDATE audit_event SET payload = '{"n": 99}' WHERE seq = 5""",
        "UPDATE assistant_answer SET question = 'What was never asked?'",
        "DELETE FROM audit_event WHERE seq = 7",
        "UPDATE audit_event SET seq = -seq WHERE seq IN (8, 9)",
        "DELETE FROM audit_event WHERE seq > 20",
        "TRUNCATE audit_event",
        "DELETE FROM assistant_answer",
        "DELETE FROM audit_checkpoint",
        "ALTER TABLE audit_event DISABLE TRIGGER USER",
    ],
)
def test_the_application_role_cannot_tamper_at_all(trail, sql):
    with pytest.raises(ProgrammingError) as refused, transaction.atomic(), connection.cursor() as c:
        c.execute(sql)
    assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value)


@pytest.mark.parametrize("taken", ["seq", "prev_hash"])
def test_an_event_inserted_beside_another_cannot_fork_the_chain(trail, taken):
    from django.db import IntegrityError

    head = Event.objects.order_by("-seq").first()
    fork = {"seq": head.seq + 1, "prev_hash": "e" * 64}
    fork[taken] = getattr(head, taken)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(created_at=head.created_at, action="x", hash="f" * 64, **fork)
