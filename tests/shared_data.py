"""Real documents from the shared development sets, as the repository keeps them: the demo
corpora in fixtures/ (a selection of each set, with its attribution) and small extracts under
tests/data/. Tests never read the development sets outside the repository
(settings.SHARED_DATA_DIR); the evaluation and benchmark commands may."""

from __future__ import annotations

import functools
import json
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
FIXTURES = REPOSITORY / "fixtures"
TEST_DATA = REPOSITORY / "tests" / "data"

# Each demo corpus file, and the shared sets its documents come from (by id prefix).
FIXTURE_SETS = {
    "regulatory": {"adgm-": "obliqa"},
    "legal": {"cuad-": "cuad", "scotus-": "scotus"},
    "medical": {"pmid-": "pubmedqa", "medquad-": "medquad"},
}


def fixture_file(corpus: str) -> Path:
    return FIXTURES / corpus / "documents.jsonl"


@functools.cache
def fixture_documents(corpus: str) -> tuple[dict, ...]:
    # Split on "\n" only: str.splitlines() would also split inside strings at U+2028 and friends.
    with fixture_file(corpus).open(encoding="utf-8") as lines:
        return tuple(json.loads(line) for line in lines if line.strip())


def shared_documents(name: str) -> list[dict]:
    """The documents of one shared set that the repository holds, in file order."""
    for corpus, sets in FIXTURE_SETS.items():
        prefixes = [prefix for prefix, set_name in sets.items() if set_name == name]
        if prefixes:
            return [d for d in fixture_documents(corpus) if d["id"].startswith(prefixes[0])]
    raise KeyError(f"no shared set {name!r} in fixtures/")


def data_file(*parts: str) -> Path:
    """A file vendored under tests/data/."""
    return TEST_DATA.joinpath(*parts)
