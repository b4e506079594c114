from __future__ import annotations

import codecs
import contextlib
import datetime
import io
import json
import logging
import re
import stat
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup, NavigableString, PageElement, Tag
from bs4.element import PreformattedString
from bs4.exceptions import ParserRejectedMarkup
from pypdf import PasswordType, PdfReader

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".jsonl"}
)

_BINARY = "binary content; this is not a text file"
_EMPTY = "empty file"

_TITLE_MAX_CHARS = 120
_BINARY_SAMPLE_BYTES = 8192
_BINARY_CONTROL_SHARE = 0.3
_CONTROL_BYTES = frozenset(set(range(32)) - set(b"\t\n\r\f") | {127})
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_MARKDOWN_H1 = re.compile(r"^#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_ABBREVIATION = re.compile(r"\(([A-Z][A-Z0-9&./-]+)\)$")
_WHITESPACE = re.compile(r"\s+")
_SPACES = re.compile(r"[ \t]*\t[ \t]*| {2,}")
_EXTRA_BLANK_LINES = re.compile(r"\n{3,}")

_HTML_DROPPED = frozenset(
    {"script", "style", "nav", "header", "footer", "noscript", "template", "head", "svg"}
)
_HTML_BLANK_LINE = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl"}
)
_HTML_LINE = frozenset(
    {"div", "li", "tr", "br", "hr", "section", "article", "main", "aside", "dt", "dd"}
    | {"address", "figure", "figcaption", "caption", "details", "summary", "form", "fieldset"}
)
_HTML_CELLS = frozenset({"td", "th"})

# pypdf and BeautifulSoup report damaged input through logging and warnings, both process-wide:
# the lock keeps concurrent parses from restoring each other's settings.
_QUIET_LOCK = threading.Lock()


@dataclass(frozen=True)
class ParsedDocument:
    external_id: str
    title: str
    text: str
    citation_label: str
    source: str
    doc_type: str
    jurisdiction: str
    date: datetime.date | None
    metadata: dict


@dataclass(frozen=True)
class ParseProblem:
    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source} line {self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ParseResult:
    documents: list[ParsedDocument]
    problems: list[ParseProblem]


class _Rejected(Exception):
    pass


def parse_path(path: Path, *, max_bytes: int, external_id: str | None = None) -> ParseResult:
    """Parse one file into documents, reporting bad input as problems instead of raising.

    external_id names the document of a single-document file (default: the file name); JSONL
    lines carry their own ids, so it is ignored there. A JSONL file returns its good lines as
    documents alongside one problem per bad line.
    """
    path = Path(path)
    try:
        raw = _read(path, max_bytes)
        return _PARSERS[path.suffix.lower()](path, raw, external_id or path.name)
    except _Rejected as rejected:
        return ParseResult([], [ParseProblem(path.name, None, str(rejected))])


def citation_label(title: str, metadata: Mapping[str, Any]) -> str:
    """The short label an answer cites a document by, derived from its title and metadata.

    A title ending in an abbreviation such as "(AML)" is cited by the abbreviation, unless the
    metadata names a filer or publisher: then "Tuberculosis (TB) (CDC)" beats a bare "TB".
    """
    title = title.strip()
    citation = _meta_str(metadata, "citation")
    if citation:
        return f"{title}, {citation}" if title else citation
    pmid = _meta_str(metadata, "pmid")
    if pmid:
        return f"PMID {pmid}"
    issuer = _meta_str(metadata, "filer") or _meta_str(metadata, "publisher")
    if issuer:
        return f"{title} ({issuer})"
    abbreviation = _ABBREVIATION.search(title)
    return abbreviation.group(1) if abbreviation else title


def _read(path: Path, max_bytes: int) -> bytes:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        named = f"type '{suffix}'" if suffix else "type (no extension)"
        raise _Rejected(
            f"unsupported file {named} (supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})"
        )
    try:
        status = path.stat()
        # Reading a FIFO or a device could block or never end.
        if not stat.S_ISREG(status.st_mode):
            raise _Rejected("not a regular file")
        _check_size(status.st_size, max_bytes)
        with path.open("rb") as handle:
            # One byte past the limit catches a file that grew after stat().
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError as error:
        raise _Rejected("file not found") from error
    except OSError as error:
        raise _Rejected(f"cannot read file ({error.strerror or error})") from error
    _check_size(len(raw), max_bytes)
    return raw


def _check_size(size: int, max_bytes: int) -> None:
    if size <= max_bytes:
        return
    size_text, limit_text = _human_size(size), _human_size(max_bytes)
    if size_text == limit_text:
        size_text, limit_text = f"{size:,} bytes", f"{max_bytes:,} bytes"
    raise _Rejected(f"file is {size_text}, over the {limit_text} limit (INGEST_MAX_BYTES)")


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value, unit = size / 1024, "KB"
    for bigger in ("MB", "GB", "TB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"


def _parse_text(path: Path, raw: bytes, external_id: str) -> ParseResult:
    text, encoding = _decode_text(raw)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise _Rejected(_EMPTY)
    markdown = path.suffix.lower() in {".md", ".markdown"}
    heading = _MARKDOWN_H1.search(text) if markdown else None
    title = heading.group(1).strip() if heading else _first_line_title(text, path.stem)
    doc_type = "markdown" if markdown else "text"
    return _single(path, external_id, title, text, doc_type, {"encoding": encoding})


def _decode_text(raw: bytes) -> tuple[str, str]:
    if _looks_binary(raw):
        raise _Rejected(_BINARY)
    if raw.startswith(_UTF16_BOMS):
        return raw.decode("utf-16", errors="replace"), "utf-16"
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        # Legacy Windows exports are the usual non-UTF-8 text; cp1252 also covers Latin-1 prose.
        return raw.decode("cp1252", errors="replace"), "cp1252"


def _looks_binary(raw: bytes) -> bool:
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


def _single(
    path: Path, external_id: str, title: str, text: str, doc_type: str, metadata: dict
) -> ParseResult:
    document = ParsedDocument(
        external_id=external_id,
        title=title,
        text=text,
        citation_label=title,
        source=path.name,
        doc_type=doc_type,
        jurisdiction="",
        date=None,
        metadata=metadata,
    )
    return ParseResult([document], [])


def _parse_html(path: Path, raw: bytes, external_id: str) -> ParseResult:
    if not raw.strip():
        raise _Rejected(_EMPTY)
    if _looks_binary(raw):
        raise _Rejected(_BINARY)
    try:
        with _quiet():
            soup = BeautifulSoup(raw, "html.parser")
    except ParserRejectedMarkup as error:
        raise _Rejected(f"unreadable HTML ({_short(error)})") from error
    text = _render(_html_parts(soup.body or soup))
    if not text:
        raise _Rejected("no text in the HTML once scripts, styles and navigation are removed")
    return _single(path, external_id, _html_title(soup) or path.stem, text, "html", {})


def _html_title(soup: BeautifulSoup) -> str:
    for tag in (soup.title, soup.find("h1")):
        title = _WHITESPACE.sub(" ", tag.get_text()).strip() if tag else ""
        if title:
            return title
    return ""


def _html_parts(root: Tag) -> list[str | int]:
    # Parts are text or the number of line breaks a block boundary needs (1, or 2 for a
    # blank line). An explicit stack, because deeply nested markup would overflow recursion.
    parts: list[str | int] = []
    stack: list[PageElement | int] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, int):
            parts.append(node)
        elif isinstance(node, NavigableString):
            parts.append(_html_string(node))
        elif isinstance(node, Tag) and node.name not in _HTML_DROPPED:
            breaks = 2 if node.name in _HTML_BLANK_LINE else int(node.name in _HTML_LINE)
            parts += [breaks, _html_prefix(node)]
            stack.append(breaks)
            if node.name == "pre":
                parts.append(node.get_text().replace("\r\n", "\n"))
            else:
                stack.extend(reversed(node.contents))
    return parts


def _html_string(node: NavigableString) -> str:
    # Comments, CDATA and doctypes are PreformattedStrings: markup, not page text.
    return "" if isinstance(node, PreformattedString) else _WHITESPACE.sub(" ", node)


def _html_prefix(node: Tag) -> str:
    if node.name in _HTML_CELLS:
        return "\t"
    if node.name != "li":
        return ""
    if node.parent is not None and node.parent.name == "ol":
        return f"{len(node.find_previous_siblings('li')) + 1}. "
    return "- "


def _render(parts: list[str | int]) -> str:
    out: list[str] = []
    pending = 0
    for part in parts:
        if isinstance(part, int):
            pending = max(pending, part)
        elif part.strip():
            if pending and out:
                out.append("\n" * pending)
            pending = 0
            out.append(part)
        elif not pending:
            out.append(part)
    lines = (_tidy_line(line) for line in "".join(out).split("\n"))
    return _EXTRA_BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _tidy_line(line: str) -> str:
    return _SPACES.sub(lambda gap: "\t" if "\t" in gap.group() else " ", line).strip()


def _parse_pdf(path: Path, raw: bytes, external_id: str) -> ParseResult:
    if not raw.strip():
        raise _Rejected(_EMPTY)
    with _quiet():
        reader, pages = _pdf_pages(raw)
        title = _pdf_title(reader)
    text = "\f".join(pages)
    if not text.strip():
        raise _Rejected("no extractable text (a scanned PDF? run OCR first)")
    return _single(path, external_id, title or path.stem, text, "pdf", {"pages": len(pages)})


def _pdf_pages(raw: bytes) -> tuple[PdfReader, list[str]]:
    try:
        reader = PdfReader(io.BytesIO(raw))
        # Many PDFs are encrypted only to restrict printing or copying, with an empty password.
        locked = reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED
        pages = [] if locked else [page.extract_text() or "" for page in reader.pages]
    except Exception as error:  # pypdf raises many types for damaged files
        raise _Rejected(f"corrupt or unreadable PDF ({_short(error)})") from error
    if locked:
        raise _Rejected("encrypted PDF; it cannot be read without its password")
    # "\f" separates pages everywhere downstream, so page text must not contain one.
    return reader, [page.replace("\f", "\n").replace("\0", "") for page in pages]


def _pdf_title(reader: PdfReader) -> str:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:  # a damaged info dictionary only costs the title
        return ""
    return _WHITESPACE.sub(" ", title).strip() if isinstance(title, str) else ""


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in ("pypdf", "bs4")]
    with _QUIET_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        levels = [logger.level for logger in loggers]
        for logger in loggers:
            logger.setLevel(logging.CRITICAL + 1)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)


def _short(error: BaseException) -> str:
    reason = str(error).strip().split("\n")[0] or type(error).__name__
    return reason if len(reason) <= 120 else reason[:117] + "..."


def _parse_jsonl(path: Path, raw: bytes, external_id: str) -> ParseResult:
    if _looks_binary(raw):
        raise _Rejected(_BINARY)
    documents: list[ParsedDocument] = []
    problems: list[ParseProblem] = []
    first_lines: dict[str, int] = {}
    # Only "\n" ends a JSONL record: str.splitlines would also split on "\u2028" and friends.
    for number, line in enumerate(raw.removeprefix(codecs.BOM_UTF8).split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            document = _jsonl_document(path.name, number, line, first_lines)
        except _Rejected as rejected:
            problems.append(ParseProblem(path.name, number, str(rejected)))
            continue
        first_lines[document.external_id] = number
        documents.append(document)
    if not documents and not problems:
        problems.append(ParseProblem(path.name, None, "no documents in file"))
    return ParseResult(documents, problems)


def _jsonl_document(
    name: str, number: int, line: bytes, first_lines: dict[str, int]
) -> ParsedDocument:
    record = _jsonl_record(line)
    doc_id = _field(record, "id", str, required=True)
    if doc_id in first_lines:
        raise _Rejected(f'duplicate id "{doc_id}" (first used on line {first_lines[doc_id]})')
    text = _field(record, "text", str, required=True)
    title = (_field(record, "title", str) or "").strip() or doc_id
    metadata = _field(record, "metadata", dict) or {}
    label = (_field(record, "citation_label", str) or "").strip()
    return ParsedDocument(
        external_id=doc_id,
        title=title,
        text=text,
        citation_label=label or citation_label(title, metadata),
        source=_meta_str(metadata, "source_url")
        or _meta_str(metadata, "source_file")
        or f"{name} line {number}",
        doc_type=_meta_str(metadata, "doc_type") or "document",
        jurisdiction=_meta_str(metadata, "court") or _meta_str(metadata, "jurisdiction"),
        date=_iso_date(_meta_str(metadata, "date")),
        metadata=metadata,
    )


def _jsonl_record(line: bytes) -> dict:
    try:
        record = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise _Rejected(f"not valid UTF-8 (bad byte at column {error.start + 1})") from error
    except json.JSONDecodeError as error:
        raise _Rejected(f"invalid JSON ({error.msg}: column {error.colno})") from error
    except RecursionError as error:
        raise _Rejected("invalid JSON (nested too deeply)") from error
    if not isinstance(record, dict):
        raise _Rejected(f"not a JSON object (found {_json_kind(record)})")
    return record


def _field(record: dict, key: str, kind: type, *, required: bool = False) -> Any:
    # null counts as absent: exporters write it for optional fields they have no value for.
    value = record.get(key)
    if value is None:
        if required:
            raise _Rejected(f'missing "{key}"')
        return None
    if not isinstance(value, kind):
        wanted = _json_kind(kind())
        raise _Rejected(f'"{key}" must be {wanted}, not {_json_kind(value)}')
    if required and not value.strip():
        raise _Rejected(f'"{key}" is empty')
    if isinstance(value, str) and "\0" in value:
        # PostgreSQL cannot store U+0000 in text, and dropping it would shift gold offsets.
        raise _Rejected(f'"{key}" contains a NUL character (U+0000)')
    return value


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return {dict: "an object", list: "an array", str: "a string"}.get(type(value), "null")


def _meta_str(metadata: Mapping[str, Any], key: str) -> str:
    value = metadata.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def _iso_date(value: str) -> datetime.date | None:
    try:
        return datetime.datetime.fromisoformat(value).date()
    except ValueError:
        return None


_PARSERS: dict[str, Callable[[Path, bytes, str], ParseResult]] = {
    ".txt": _parse_text,
    ".md": _parse_text,
    ".markdown": _parse_text,
    ".html": _parse_html,
    ".htm": _parse_html,
    ".pdf": _parse_pdf,
    ".jsonl": _parse_jsonl,
}
