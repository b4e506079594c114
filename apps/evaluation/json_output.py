"""Writing an evaluation's numbers, as every evaluation command does with --json OUT."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import CommandError


def write_json(path: Path, numbers: dict) -> None:
    """Write an evaluation's numbers as JSON; a path that cannot be written is a CommandError."""
    try:
        path.write_text(json.dumps(numbers, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc}") from None
