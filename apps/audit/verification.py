"""Proving the audit trail: recompute every link of the chain, check every signed checkpoint
against it, and check every hashed record against its row and its creation event."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.audit.hashing import GENESIS, event_hash
from apps.audit.models import Checkpoint, Event
from apps.audit.records import KINDS, RecordKind, record_hash
from apps.audit.signing import checkpoint_message, signature_holds, trusted_keys

CHAINED = ("seq", "time", "actor_id", "actor", "role", "action", "object_type", "object_id")
COLUMNS = ("seq", "created_at", "actor_id", "actor", "role", "action", "object_type", "object_id")


@dataclass(frozen=True)
class Problem:
    seq: int | None  # the event it concerns, where there is one
    message: str


@dataclass
class Verification:
    events: int = 0
    head: tuple[int, str] | None = None
    checkpoints: int = 0
    records: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_broken(self) -> Problem | None:
        """The problem at the lowest sequence number: the first broken link."""
        numbered = [p for p in self.problems if p.seq is not None]
        return min(numbered, key=lambda p: p.seq) if numbered else next(iter(self.problems), None)

    def as_dict(self) -> dict:
        first = self.first_broken
        return {
            "ok": self.ok,
            "events": self.events,
            "head": {"seq": self.head[0], "hash": self.head[1]} if self.head else None,
            "checkpoints": self.checkpoints,
            "records": self.records,
            "first_broken": {"seq": first.seq, "message": first.message} if first else None,
            "problems": [{"seq": p.seq, "message": p.message} for p in self.problems],
            "notes": self.notes,
        }


def audit_verify() -> Verification:
    """Verify the whole trail; nothing is written."""
    result = Verification()
    checkpoints = list(Checkpoint.objects.order_by("seq", "id"))
    wanted = {checkpoint.seq for checkpoint in checkpoints}
    record_actions = {kind.action: kind.object_type for kind in KINDS.values()}
    hashes, vouched = verify_chain(result, wanted, record_actions)
    verify_checkpoints(result, checkpoints, hashes)
    for kind in KINDS.values():
        verify_records(result, kind, vouched)
    return result


def verify_chain(
    result: Verification, wanted: set[int], record_actions: dict[str, str]
) -> tuple[dict[int, str], dict[tuple[str, str], tuple[int, str, tuple | None]]]:
    hashes: dict[int, str] = {}
    vouched: dict[tuple[str, str], tuple[int, str, tuple | None]] = {}
    field_lists: dict[tuple, tuple] = {}
    expected, prev = 1, GENESIS
    rows = (
        Event.objects.order_by("seq")
        .values_list(*COLUMNS, "payload", "prev_hash", "hash")
        .iterator(chunk_size=5000)
    )
    for row in rows:
        seq, stored_prev, stored = row[0], row[-2], row[-1]
        if seq != expected:
            result.problems.append(
                Problem(
                    seq,
                    f"events {expected} to {seq - 1} are missing: the chain jumps "
                    f"from {expected - 1} to {seq}",
                )
            )
        elif stored_prev != prev:
            result.problems.append(
                Problem(
                    seq,
                    f"event {seq} does not follow event {seq - 1}: the hash it names "
                    "as its predecessor's is not that event's hash",
                )
            )
        chained = dict(zip(CHAINED, row[:8], strict=True))
        chained["payload"] = row[8]
        if event_hash(stored_prev, chained) != stored:
            result.problems.append(
                Problem(
                    seq,
                    f"event {seq} was altered: its content no longer hashes to its recorded hash",
                )
            )
        if seq in wanted:
            hashes[seq] = stored
        object_type = record_actions.get(row[5])
        if object_type == row[6]:
            payload = row[8] or {}
            fields = payload.get("fields")
            if fields is not None:  # one tuple per list of fields, however many records
                fields = field_lists.setdefault(tuple(fields), tuple(fields))
            vouched[(object_type, row[7])] = (seq, payload.get("content_hash"), fields)
        result.events += 1
        expected, prev = seq + 1, stored
        result.head = (seq, stored)
    return hashes, vouched


def verify_checkpoints(
    result: Verification, checkpoints: list[Checkpoint], hashes: dict[int, str]
) -> None:
    trusted = trusted_keys()
    if checkpoints and not trusted:
        result.notes.append(
            "no trusted public key is configured (AUDIT_SIGNING_KEY or AUDIT_PUBLIC_KEYS): "
            "signatures were checked against the keys stored beside them only"
        )
    last = result.head[0] if result.head else 0
    for checkpoint in checkpoints:
        result.checkpoints += 1
        name = f"the checkpoint of {checkpoint.signed_at:%Y-%m-%d %H:%M:%S} UTC"
        message = checkpoint_message(checkpoint.seq, checkpoint.hash, checkpoint.signed_at)
        if not signature_holds(checkpoint.public_key, checkpoint.signature, message):
            result.problems.append(
                Problem(checkpoint.seq, f"{name} has a signature that does not hold")
            )
        elif trusted and checkpoint.public_key.lower() not in trusted:
            result.problems.append(
                Problem(checkpoint.seq, f"{name} is signed with a key that is not trusted")
            )
        if checkpoint.seq > last:
            result.problems.append(
                Problem(
                    last + 1,
                    f"{name} signed event {checkpoint.seq}, but the chain ends at "
                    f"event {last}: events were removed from its end",
                )
            )
        elif hashes.get(checkpoint.seq) != checkpoint.hash:
            result.problems.append(
                Problem(
                    checkpoint.seq,
                    f"{name} signed event {checkpoint.seq} with another "
                    "hash: the chain up to it was rewritten",
                )
            )


def verify_records(
    result: Verification,
    kind: RecordKind,
    vouched: dict[tuple[str, str], tuple[int, str, tuple | None]],
) -> None:
    label = kind.model._meta.verbose_name
    seen = set()
    count = 0
    for row in kind.rows():
        pk, stored = str(row.pop("pk")), row.pop("content_hash")
        count += 1
        seen.add(pk)
        event = vouched.get((kind.object_type, pk))
        if event is None:
            result.problems.append(Problem(None, f"{label} {pk} has no {kind.action} event"))
            continue
        actual = record_hash(row, event[2])
        if actual != stored or actual != event[1]:
            result.problems.append(
                Problem(
                    event[0],
                    f"{label} {pk} was altered: its content no longer hashes to "
                    f"the hash its {kind.action} event (#{event[0]}) holds",
                )
            )
    for (object_type, pk), (seq, _, _) in vouched.items():
        if object_type == kind.object_type and pk not in seen:
            result.problems.append(
                Problem(seq, f"event {seq} records {label} {pk}, which is no longer there")
            )
    result.records[kind.object_type] = count
