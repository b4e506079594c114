"""JSONL bulk files: one document per line, each bad line reported on its own."""

from __future__ import annotations

import codecs
import datetime
import json
from pathlib import Path
from typing import Any

from apps.corpora.parsers.citations import citation_label, metadata_text
from apps.corpora.parsers.results import ParsedDocument, ParseProblem, ParseResult, Rejected
from apps.corpora.parsers.text import reject_binary


def parse_jsonl(path: Path, raw: bytes, external_id: str) -> ParseResult:
    """The documents of a JSONL file's good lines, and one problem per bad line.

    external_id is unused: every line carries its own "id".
    """
    reject_binary(raw)
    documents: list[ParsedDocument] = []
    problems: list[ParseProblem] = []
    first_lines: dict[str, int] = {}
    # Only "\n" ends a JSONL record: str.splitlines would also split on "\u2028" and friends.
    for number, line in enumerate(raw.removeprefix(codecs.BOM_UTF8).split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            document = _document(path.name, number, line, first_lines)
        except Rejected as rejected:
            problems.append(ParseProblem(path.name, number, str(rejected)))
            continue
        first_lines[document.external_id] = number
        documents.append(document)
    if not documents and not problems:
        problems.append(ParseProblem(path.name, None, "no documents in file"))
    return ParseResult(documents, problems)


def _document(name: str, number: int, line: bytes, first_lines: dict[str, int]) -> ParsedDocument:
    record = _record(line)
    doc_id = _field(record, "id", str, required=True)
    if doc_id in first_lines:
        raise Rejected(f'duplicate id "{doc_id}" (first used on line {first_lines[doc_id]})')
    text = _field(record, "text", str, required=True)
    title = (_field(record, "title", str) or "").strip() or doc_id
    metadata = _field(record, "metadata", dict) or {}
    label = (_field(record, "citation_label", str) or "").strip()
    return ParsedDocument(
        external_id=doc_id,
        title=title,
        text=text,
        citation_label=label or citation_label(title, metadata),
        source=metadata_text(metadata, "source_url")
        or metadata_text(metadata, "source_file")
        or f"{name} line {number}",
        doc_type=metadata_text(metadata, "doc_type") or "document",
        jurisdiction=metadata_text(metadata, "court") or metadata_text(metadata, "jurisdiction"),
        date=_iso_date(metadata_text(metadata, "date")),
        metadata=metadata,
    )


def _record(line: bytes) -> dict:
    try:
        record = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise Rejected(f"not valid UTF-8 (bad byte at column {error.start + 1})") from error
    except json.JSONDecodeError as error:
        raise Rejected(f"invalid JSON ({error.msg}: column {error.colno})") from error
    except RecursionError as error:
        raise Rejected("invalid JSON (nested too deeply)") from error
    if not isinstance(record, dict):
        raise Rejected(f"not a JSON object (found {_json_kind(record)})")
    return record


def _field(record: dict, key: str, kind: type, *, required: bool = False) -> Any:
    # null counts as absent: exporters write it for optional fields they have no value for.
    value = record.get(key)
    if value is None:
        if required:
            raise Rejected(f'missing "{key}"')
        return None
    if not isinstance(value, kind):
        wanted = _json_kind(kind())
        raise Rejected(f'"{key}" must be {wanted}, not {_json_kind(value)}')
    if required and not value.strip():
        raise Rejected(f'"{key}" is empty')
    if isinstance(value, str) and "\0" in value:
        # PostgreSQL cannot store U+0000 in text, and dropping it would shift gold offsets.
        raise Rejected(f'"{key}" contains a NUL character (U+0000)')
    return value


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return {dict: "an object", list: "an array", str: "a string"}.get(type(value), "null")


def _iso_date(value: str) -> datetime.date | None:
    try:
        return datetime.datetime.fromisoformat(value).date()
    except ValueError:
        return None
