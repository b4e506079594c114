"""How an answer cites a document: its citation label, built from title and metadata."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_ABBREVIATION = re.compile(r"\(([A-Z][A-Z0-9&./-]+)\)$")


def citation_label(title: str, metadata: Mapping[str, Any]) -> str:
    """The short label an answer cites a document by, derived from its title and metadata.

    A title ending in an abbreviation such as "(AML)" is cited by the abbreviation, unless the
    metadata names a filer or publisher: then "Tuberculosis (TB) (CDC)" beats a bare "TB".
    """
    title = title.strip()
    citation = metadata_text(metadata, "citation")
    if citation:
        return f"{title}, {citation}" if title else citation
    pmid = metadata_text(metadata, "pmid")
    if pmid:
        return f"PMID {pmid}"
    issuer = metadata_text(metadata, "filer") or metadata_text(metadata, "publisher")
    if issuer:
        return f"{title} ({issuer})"
    abbreviation = _ABBREVIATION.search(title)
    return abbreviation.group(1) if abbreviation else title


def metadata_text(metadata: Mapping[str, Any], key: str) -> str:
    """metadata[key] as stripped text: integers such as a PMID count, anything else is ""."""
    value = metadata.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else ""
