"""Turning an uploaded or bulk file into ParsedDocuments, by the parser for its suffix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from apps.corpora.parsers.citations import citation_label
from apps.corpora.parsers.html import parse_html
from apps.corpora.parsers.jsonl import parse_jsonl
from apps.corpora.parsers.pdf import parse_pdf
from apps.corpora.parsers.reading import read_file
from apps.corpora.parsers.results import ParsedDocument, ParseProblem, ParseResult, Rejected
from apps.corpora.parsers.text import parse_text

__all__ = [
    "SUPPORTED_SUFFIXES",
    "ParseProblem",
    "ParseResult",
    "ParsedDocument",
    "citation_label",
    "parse_path",
]

_PARSERS: dict[str, Callable[[Path, bytes, str], ParseResult]] = {
    ".txt": parse_text,
    ".md": parse_text,
    ".markdown": parse_text,
    ".html": parse_html,
    ".htm": parse_html,
    ".pdf": parse_pdf,
    ".jsonl": parse_jsonl,
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_PARSERS)


def parse_path(path: Path, *, max_bytes: int, external_id: str | None = None) -> ParseResult:
    """Parse one file into documents, reporting bad input as problems instead of raising.

    external_id names the document of a single-document file (default: the file name); JSONL
    lines carry their own ids, so it is ignored there. A JSONL file returns its good lines as
    documents alongside one problem per bad line.
    """
    path = Path(path)
    try:
        parse = _parser_for(path)
        return parse(path, read_file(path, max_bytes), external_id or path.name)
    except Rejected as rejected:
        return ParseResult([], [ParseProblem(path.name, None, str(rejected))])


def _parser_for(path: Path) -> Callable[[Path, bytes, str], ParseResult]:
    # Checked before reading, so an unsupported file is never opened.
    suffix = path.suffix.lower()
    if suffix not in _PARSERS:
        named = f"type '{suffix}'" if suffix else "type (no extension)"
        raise Rejected(
            f"unsupported file {named} (supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})"
        )
    return _PARSERS[suffix]
