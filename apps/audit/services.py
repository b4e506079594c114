"""Writing the audit trail: events, hashed records and signed checkpoints."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection, models, transaction
from django.utils import timezone

from apps.audit.hashing import GENESIS, event_hash
from apps.audit.models import Checkpoint, Event
from apps.audit.records import kind_of
from apps.audit.signing import checkpoint_message, public_hex, signing_key

# Every writer of the chain takes this transaction-level advisory lock, so that events are
# numbered and linked one at a time: no gap, no fork, whatever the number of writers.
CHAIN_LOCK = 0x61756469745F6576  # "audit_ev"


class AuditError(Exception):
    """Something the audit trail cannot do as asked, with a message fit to show."""


def event_record(
    *,
    action: str,
    actor=None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    payload: dict[str, Any] | None = None,
) -> Event:
    """Append one event to the audit trail, in the caller's transaction (or one of its own),
    so that an action and its event are committed together or not at all.

    `action` is `noun.verb` in the past tense (`adapter.activated`); `actor` is the user who
    acted (None for the system); `obj` names the object acted on (its model label and pk),
    unless `object_type` and `object_id` are given; `payload` holds ids and hashes, never
    corpus text. Call it last in the transaction: writers of the chain wait for each other
    from this call until their transaction ends.
    """
    if obj is not None:
        object_type, object_id = obj._meta.label_lower, obj.pk
    actor_id, actor_name, role = actor_fields(actor)
    with transaction.atomic(savepoint=False):
        seq, prev = chain_head_locked()
        event = Event(
            seq=seq + 1,
            created_at=timezone.now(),
            actor_id=actor_id,
            actor=actor_name,
            role=role,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            payload=payload or {},
            prev_hash=prev,
        )
        event.hash = event_hash(prev, event.chained())
        event.save(force_insert=True)
    return event


def chain_head_locked() -> tuple[int, str]:
    """The last event's sequence number and hash (0 and the genesis hash before the first),
    read after taking the chain's lock, which the transaction holds until it ends."""
    with connection.cursor() as cursor:
        # Two statements: the second must see what the lock's last holder committed.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
        cursor.execute("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def actor_fields(actor) -> tuple[int | None, str, str]:
    if actor is None:
        return None, "", "system"
    if not actor.is_authenticated:
        return None, "", "anonymous"
    role = getattr(actor, "_audit_role", None)
    if role is None:
        names = sorted(actor.groups.values_list("name", flat=True))
        role = ",".join((["superuser"] if actor.is_superuser else []) + names)
        actor._audit_role = role
    return actor.pk, actor.get_username(), role


def record_seal(*, record: models.Model) -> str:
    """Set `record.content_hash` to the hash of its canonical content, before it is saved."""
    record.content_hash = kind_of(type(record)).hash_of(record)
    return record.content_hash


def record_event(*, record: models.Model, actor=None, payload: dict | None = None) -> Event:
    """The event that vouches for a sealed record: its id and content hash."""
    kind = kind_of(type(record))
    return event_record(
        action=kind.action,
        actor=actor,
        obj=record,
        payload={**(payload or {}), "content_hash": record.content_hash, "fields": kind.fields},
    )


@transaction.atomic
def checkpoint_create(*, key: Ed25519PrivateKey | None = None) -> Checkpoint:
    """Sign the head of the chain (its sequence number and hash) and store the signature."""
    key = key or signing_key(create=True)
    seq, head = chain_head_locked()
    if not seq:
        raise AuditError("the audit trail is empty: there is nothing to sign yet")
    signed_at = timezone.now()
    return Checkpoint.objects.create(
        seq=seq,
        hash=head,
        signed_at=signed_at,
        public_key=public_hex(key),
        signature=key.sign(checkpoint_message(seq, head, signed_at)).hex(),
    )
