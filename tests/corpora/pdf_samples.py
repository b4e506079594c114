from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter

# Hand-built rather than generated with a PDF library so the tests need nothing beyond pypdf.
_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
_IMAGE_PIXELS = bytes([0, 255, 255, 0])
_IMAGE = (
    b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray"
    b" /BitsPerComponent 8 /Length 4 >>\nstream\n" + _IMAGE_PIXELS + b"\nendstream"
)
_RESOURCES = b"<< /Font << /F1 3 0 R >> /XObject << /Im1 4 0 R >> >>"


def text_pdf(pages: list[str], *, title: str | None = None) -> bytes:
    """A PDF with one page per string; "\\n" in a string starts a new line of text."""
    return _assemble([_text_content(page) for page in pages], title)


def image_only_pdf(page_count: int = 2) -> bytes:
    """A PDF whose pages hold only a picture, like a scan that has not been through OCR."""
    return _assemble([b"q 200 0 0 200 72 500 cm /Im1 Do Q"] * page_count, None)


def encrypted_pdf(pages: list[str], *, user_password: str) -> bytes:
    """text_pdf(pages) encrypted (RC4, so no crypto package is needed to write or read it)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(pages))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def truncated_pdf() -> bytes:
    """The first half of a valid PDF, as left by an interrupted download."""
    whole = text_pdf(["A page that never finished downloading."] * 3)
    return whole[: len(whole) // 2]


def _text_content(page: str) -> bytes:
    lines = b" Tj T* ".join(b"(" + _escape(line) + b")" for line in page.split("\n"))
    return b"BT /F1 12 Tf 14 TL 72 720 Td " + lines + b" Tj ET"


def _escape(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return escaped.replace("\f", "\\f").encode("latin-1")


def _assemble(contents: list[bytes], title: str | None) -> bytes:
    first_page = 5
    kids = b" ".join(b"%d 0 R" % (first_page + 2 * n) for n in range(len(contents)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(contents),
        _FONT,
        _IMAGE,
    ]
    for content in contents:
        page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
        objects.append(page + _RESOURCES + b" /Contents %d 0 R >>" % (len(objects) + 2))
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    if title is not None:
        objects.append(b"<< /Title (" + _escape(title) + b") >>")
    return _serialise(objects, info=len(objects) if title is not None else None)


def _serialise(objects: list[bytes], *, info: int | None) -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = b"<< /Size %d /Root 1 0 R" % (len(objects) + 1)
    trailer += b" /Info %d 0 R >>" % info if info else b" >>"
    out += b"trailer\n" + trailer + b"\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
