"""PDF files: the text of every page, pages separated by form feeds."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PasswordType, PdfReader

from apps.corpora.parsers.library_errors import quiet_libraries, short_reason
from apps.corpora.parsers.results import EMPTY_FILE, ParseResult, Rejected, single_document
from apps.corpora.parsers.text import collapse_whitespace


def parse_pdf(path: Path, raw: bytes, external_id: str) -> ParseResult:
    """One document from a PDF, its pages joined by "\\f" and titled by its metadata."""
    if not raw.strip():
        raise Rejected(EMPTY_FILE)
    with quiet_libraries():
        reader, pages = _pages(raw)
        title = _title(reader)
    text = "\f".join(pages)
    if not text.strip():
        raise Rejected("no extractable text (a scanned PDF? run OCR first)")
    return single_document(
        path, external_id, title or path.stem, text, "pdf", {"pages": len(pages)}
    )


def _pages(raw: bytes) -> tuple[PdfReader, list[str]]:
    try:
        reader = PdfReader(io.BytesIO(raw))
        # Many PDFs are encrypted only to restrict printing or copying, with an empty password.
        locked = reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED
        pages = [] if locked else [page.extract_text() or "" for page in reader.pages]
    except Exception as error:  # pypdf raises many types for damaged files
        raise Rejected(f"corrupt or unreadable PDF ({short_reason(error)})") from error
    if locked:
        raise Rejected("encrypted PDF; it cannot be read without its password")
    # "\f" separates pages everywhere downstream, so page text must not contain one.
    return reader, [page.replace("\f", "\n").replace("\0", "") for page in pages]


def _title(reader: PdfReader) -> str:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:  # a damaged info dictionary only costs the title
        return ""
    return collapse_whitespace(title).strip() if isinstance(title, str) else ""
