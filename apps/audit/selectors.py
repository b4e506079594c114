from __future__ import annotations

from django.db.models import QuerySet

from apps.audit.models import Checkpoint, Event
from apps.audit.signing import checkpoint_message


def events_about(object_type: str, object_id) -> QuerySet[Event]:
    return Event.objects.filter(object_type=object_type, object_id=str(object_id))


def checkpoint_latest() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-seq", "-id").first()


def checkpoint_as_dict(checkpoint: Checkpoint) -> dict:
    """A checkpoint as exported, to be anchored elsewhere: enough to check it with the public
    key alone (the signed message is spelled out)."""
    return {
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "signed_at": checkpoint.signed_at.isoformat(),
        "algorithm": checkpoint.algorithm,
        "public_key": checkpoint.public_key,
        "signature": checkpoint.signature,
        "message": checkpoint_message(
            checkpoint.seq, checkpoint.hash, checkpoint.signed_at
        ).decode(),
    }
