"""The shared development sets beside the checkout (../shared/data), for tests that use them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_documents(name: str) -> list[dict]:
    """Every document of one shared set; skips the test when the sets are not there."""
    path = SHARED_DATA / name / "documents.jsonl"
    if not path.exists():
        pytest.skip(f"shared data set {path} is not present on this machine")
    # Iterating the file splits on "\n" only; str.splitlines() would split inside strings.
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]
