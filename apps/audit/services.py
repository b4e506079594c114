"""Writing the audit trail: events, hashed records and signed checkpoints."""

from __future__ import annotations

import json
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
    durable: bool = True,
) -> Event:
    """Append one event to the audit trail, in the caller's transaction (or one of its own),
    so that an action and its event are committed together or not at all.

    `action` is `noun.verb` in the past tense (`adapter.activated`); `actor` is the user who
    acted (None for the system); `obj` names the object acted on (its model label and pk),
    unless `object_type` and `object_id` are given; `payload` holds ids and hashes, never
    corpus text. Call it last in the transaction: writers of the chain wait for each other
    from this call until their transaction ends.

    `durable=False` is for the event of a read (a view, a search), outside any transaction:
    its commit does not wait for the disk, which would cost the request more than the rest
    of the event (4 ms against 0.7 ms at the median, bench.audit); a crash of the database
    server may lose the last fraction of a second of such events, from the end of the chain,
    never one in the middle. An action's event is as durable as the action.
    """
    if obj is not None:
        object_type, object_id = obj._meta.label_lower, obj.pk
    asynchronous = not durable and not connection.in_atomic_block
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        seq, prev, groups = chain_head_locked(
            cursor, asynchronous=asynchronous, actor=actor_pk(actor)
        )
        event = Event(
            seq=seq + 1,
            created_at=timezone.now(),
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            payload=payload or {},
            prev_hash=prev,
        )
        event.actor_id, event.actor, event.role = actor_fields(actor, groups)
        event.hash = event_hash(prev, event.chained())
        cursor.execute(
            INSERT, [*(getattr(event, name) for name in COLUMNS[:-1]), json.dumps(event.payload)]
        )
    return event


# Each event costs the request two statements besides its commit: the lock, the head and
# the actor's groups in one (audit_chain_head, migration 0002), then the insert.
COLUMNS = (
    "seq",
    "created_at",
    "actor_id",
    "actor",
    "role",
    "action",
    "object_type",
    "object_id",
    "prev_hash",
    "hash",
    "payload",
)
INSERT = (
    f"INSERT INTO audit_event ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * (len(COLUMNS) - 1))}, %s::jsonb)"
)


def chain_head_locked(
    cursor, *, asynchronous: bool = False, actor: int | None = None
) -> tuple[int, str, list[str] | None]:
    """The last event's sequence number and hash (0 and the genesis hash before the first),
    read after taking the chain's lock, which the transaction holds until it ends; and the
    names of `actor`'s groups."""
    cursor.execute("SELECT * FROM audit_chain_head(%s, %s, %s)", [CHAIN_LOCK, asynchronous, actor])
    seq, head, groups = cursor.fetchone()
    return (seq or 0), (head or GENESIS), groups


def actor_pk(actor) -> int | None:
    return actor.pk if actor is not None and actor.is_authenticated else None


def actor_fields(actor, groups: list[str] | None) -> tuple[int | None, str, str]:
    if actor is None:
        return None, "", "system"
    if not actor.is_authenticated:
        return None, "", "anonymous"
    names = (["superuser"] if actor.is_superuser else []) + (groups or [])
    return actor.pk, actor.get_username(), ",".join(names)


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
    with connection.cursor() as cursor:
        seq, head, _ = chain_head_locked(cursor)
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
