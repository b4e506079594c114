"""Canonical JSON and the hashes of the audit trail: pure functions, no database.

A value is hashed as it reads back from PostgreSQL, so that a record hashed before it is
written verifies when read: jsonb keeps a number's decimal digits but not its type, so a
float with no fraction (1.0) reads back as an integer and is hashed as one.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from decimal import Decimal
from typing import Any

GENESIS = "0" * 64


def normal(value: Any) -> Any:
    if isinstance(value, float):
        return int(Decimal(repr(value))) if value.is_integer() else value
    if isinstance(value, dict):
        return {str(key): normal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normal(item) for item in value]
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def canonical(value: Any) -> bytes:
    """`value` as canonical JSON: keys sorted, no spaces, UTF-8, numbers as jsonb reads them."""
    return json.dumps(
        normal(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def event_hash(prev_hash: str, event: dict[str, Any]) -> str:
    """sha256 over the previous event's hash and this event's canonical JSON."""
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(event)).hexdigest()
