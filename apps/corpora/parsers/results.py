"""What parsing produces: documents, problems, and the rejection that turns bad input into one."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

EMPTY_FILE = "empty file"


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


class Rejected(Exception):
    """Bad input: its message becomes a ParseProblem for the file or line, never an error."""


def single_document(
    path: Path, external_id: str, title: str, text: str, doc_type: str, metadata: dict
) -> ParseResult:
    """The result of a file that holds one document, cited by its title."""
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
