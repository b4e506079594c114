"""Plain text and Markdown files, and the byte-level checks other text formats share."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from apps.corpora.parsers.results import EMPTY_FILE, ParseResult, Rejected, single_document

_BINARY = "binary content; this is not a text file"
_TITLE_MAX_CHARS = 120
_BINARY_SAMPLE_BYTES = 8192
_BINARY_CONTROL_SHARE = 0.3
_CONTROL_BYTES = frozenset(set(range(32)) - set(b"\t\n\r\f") | {127})
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_MARKDOWN_H1 = re.compile(r"^#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_WHITESPACE = re.compile(r"\s+")


def parse_text(path: Path, raw: bytes, external_id: str) -> ParseResult:
    """One document from a .txt or Markdown file, titled by its first heading or line."""
    text, encoding = _decode(raw)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise Rejected(EMPTY_FILE)
    markdown = path.suffix.lower() in {".md", ".markdown"}
    heading = _MARKDOWN_H1.search(text) if markdown else None
    title = heading.group(1).strip() if heading else _first_line_title(text, path.stem)
    doc_type = "markdown" if markdown else "text"
    return single_document(path, external_id, title, text, doc_type, {"encoding": encoding})


def reject_binary(raw: bytes) -> None:
    """Reject bytes that are not text, such as an image or archive given a text suffix."""
    if _looks_binary(raw):
        raise Rejected(_BINARY)


def collapse_whitespace(text: str) -> str:
    """text with every run of whitespace, line breaks included, turned into one space."""
    return _WHITESPACE.sub(" ", text)


def _decode(raw: bytes) -> tuple[str, str]:
    reject_binary(raw)
    if raw.startswith(_UTF16_BOMS):
        return raw.decode("utf-16", errors="replace"), "utf-16"
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        # Legacy Windows exports are the usual non-UTF-8 text; cp1252 also covers Latin-1 prose.
        return raw.decode("cp1252", errors="replace"), "cp1252"


def _looks_binary(raw: bytes) -> bool:
    # UTF-16 text is full of NUL bytes, so its byte order mark vouches for it.
    if raw.startswith(_UTF16_BOMS):
        return False
    if b"\0" in raw:
        return True
    sample = raw[:_BINARY_SAMPLE_BYTES]
    controls = sum(byte in _CONTROL_BYTES for byte in sample)
    return controls > len(sample) * _BINARY_CONTROL_SHARE


def _first_line_title(text: str, fallback: str) -> str:
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    return first if len(first) <= _TITLE_MAX_CHARS else fallback
