"""Records kept as tamper-evidently as events: rows whose canonical content is hashed into a
`content_hash` column and into the event that created them, so that verification can tell an
edited row. Apps register their record models here (in AppConfig.ready); the audit app knows
them only through this registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from apps.audit import hashing

NOT_HASHED = ("id", "content_hash")


@dataclass(frozen=True)
class RecordKind:
    model: type[models.Model]
    action: str  # the action of the event that holds the record's hash
    final: models.Q | None  # which rows are records; None: all (others are drafts)

    @property
    def object_type(self) -> str:
        return self.model._meta.label_lower

    @property
    def fields(self) -> list[str]:
        return [
            field.attname
            for field in self.model._meta.concrete_fields
            if field.name not in NOT_HASHED
        ]

    def rows(self):
        rows = self.model._default_manager.order_by("pk")
        if self.final is not None:
            rows = rows.filter(self.final)
        return rows.values("pk", "content_hash", *self.fields).iterator(chunk_size=2000)

    def hash_of(self, instance: models.Model) -> str:
        return record_hash({name: getattr(instance, name) for name in self.fields})


KINDS: dict[str, RecordKind] = {}


def register(model: type[models.Model], *, action: str, final: models.Q | None = None) -> None:
    kind = RecordKind(model, action, final)
    KINDS[kind.object_type] = kind


def kind_of(model: type[models.Model]) -> RecordKind:
    return KINDS[model._meta.label_lower]


def record_hash(content: dict[str, Any], fields: list[str] | None = None) -> str:
    """The hash of a record's content: of `fields` only, where given, which is how a record
    written before a field was added is checked (its event names the fields it hashed)."""
    if fields is not None:
        content = {name: content.get(name) for name in fields}
    return hashing.content_hash(content)
