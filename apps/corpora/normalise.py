"""Index-time text normalisation that keeps a character map back to the source."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

INVISIBLE_MARKS = "\u00ad\u200b\u200c\u200d\u200e\u200f\ufeff\u2060"
FORM_FEED = "\f"

_HEADER_MAX_CHARS = 80
_HEADER_LINES_PER_PAGE = 3
_HEADER_MIN_PAGES = 3

# Every character that str.isspace() accepts lies below U+3001.
_WHITESPACE_TABLE = np.array([chr(code).isspace() for code in range(0x3001)], dtype=bool)
# Soft hyphens are left for the hyphenation pass, which also takes the line break after them.
_INVISIBLE_CODES = np.array([ord(mark) for mark in INVISIBLE_MARKS if mark != "\u00ad"])

_LINE = re.compile(r"[^\n\f]+")
_PAGE_NUMBER = re.compile(r"\s*\d{1,4}\s*")
_EDGE_PAGE_NUMBERS = re.compile(r"^\d{1,4}\s+|\s+\d{1,4}$")
_INNER_WHITESPACE = re.compile(r"\s+")
# A soft hyphen always marks hyphenation, so it goes together with any line break after it.
_SOFT_HYPHEN_BREAK = re.compile(r"\u00ad(?:[^\S\n\f]*[\n\f]\s*)?")
# A hard hyphen at a line break before a lowercase letter splits a word in these sources
# ("judg-\nment", "Wash-\nington": about 4,000 of 4,600 in the shared sets, against some 170
# compounds), so the hyphen goes with the break; before a capital or a digit it is a real one
# ("Anti-\nMoney", "12-\n15") and only the break goes.
_HARD_HYPHEN_BREAK = re.compile(r"(?<=\w)-([^\S\n\f]*[\n\f]\s*)(?=\w)")


@dataclass(frozen=True)
class NormalisedText:
    text: str
    origin: tuple[int, ...]

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalised range [start, end) to the source range that holds its characters."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span [{start}, {end}) is outside 0..{len(self.text)}")
        if start == end:
            anchor = self.origin[start] if start < len(self.origin) else self._source_end()
            return anchor, anchor
        return self.origin[start], self.origin[end - 1] + 1

    def _source_end(self) -> int:
        return self.origin[-1] + 1 if self.origin else 0


def header_key(line: str) -> str:
    """The comparable form of a page-header line: page numbers at either end dropped."""
    collapsed = _INNER_WHITESPACE.sub(" ", line.strip())
    return _EDGE_PAGE_NUMBERS.sub("", collapsed).strip()


def find_running_headers(document_text: str) -> frozenset[str]:
    """Short lines that open at least three pages: the running headers of a paginated text."""
    if FORM_FEED not in document_text:
        return frozenset()
    pages_opened = Counter()
    for page in document_text.split(FORM_FEED):
        pages_opened.update({header_key(line) for line in _opening_lines(page)})
    return frozenset(
        key
        for key, pages in pages_opened.items()
        if pages >= _HEADER_MIN_PAGES and key and not key.isdigit()
    )


def _opening_lines(page: str) -> list[str]:
    opening = []
    for match in _LINE.finditer(page):
        line = match.group().strip()
        if line:
            opening.append(line)
            if len(opening) == _HEADER_LINES_PER_PAGE:
                break
    return [line for line in opening if len(line) <= _HEADER_MAX_CHARS]


def normalise_for_index(text: str, running_headers: frozenset[str] = frozenset()) -> NormalisedText:
    """Text as it should be embedded and keyword-indexed, with a map back to `text`."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    keep = ~np.isin(codes, _INVISIBLE_CODES)
    for start, end in page_furniture(text, running_headers):
        keep[start:end] = False
    origin = np.flatnonzero(keep)
    codes = codes[origin]
    keep = _hyphenation_mask(_decode(codes))
    origin, codes = origin[keep], codes[keep]
    keep, is_space = _collapsed_whitespace_mask(codes)
    codes = np.where(is_space, np.uint32(ord(" ")), codes)[keep]
    return NormalisedText(text=_decode(codes), origin=tuple(origin[keep].tolist()))


def page_furniture(text: str, running_headers: frozenset[str]) -> list[tuple[int, int]]:
    """Source spans of running-header lines and of page-number lines beside a form feed."""
    if not running_headers and FORM_FEED not in text:
        return []
    spans = []
    page_start = 0
    for page_end in [*_form_feeds(text), len(text)]:
        lines = [m.span() for m in _LINE.finditer(text, page_start, page_end)]
        lines = [(start, end) for start, end in lines if not text[start:end].isspace()]
        spans.extend(_page_number_lines(text, lines, page_start > 0, page_end < len(text)))
        spans.extend(span for span in lines if _is_running_header(text, span, running_headers))
        page_start = page_end + 1
    return sorted(set(spans))


def _form_feeds(text: str) -> list[int]:
    return [match.start() for match in re.finditer(FORM_FEED, text)]


def _page_number_lines(
    text: str, lines: list[tuple[int, int]], after_form_feed: bool, before_form_feed: bool
) -> list[tuple[int, int]]:
    candidates = lines[:_HEADER_LINES_PER_PAGE] if after_form_feed else []
    candidates += lines[-1:] if before_form_feed else []
    return [(start, end) for start, end in candidates if _PAGE_NUMBER.fullmatch(text, start, end)]


def _is_running_header(text: str, span: tuple[int, int], running_headers: frozenset[str]) -> bool:
    start, end = span
    if not running_headers or end - start > 2 * _HEADER_MAX_CHARS:
        return False
    line = text[start:end]
    return line.strip() in running_headers or header_key(line) in running_headers


def _hyphenation_mask(text: str) -> np.ndarray:
    keep = np.ones(len(text), dtype=bool)
    for match in _SOFT_HYPHEN_BREAK.finditer(text):
        keep[match.start() : match.end()] = False
    for match in _HARD_HYPHEN_BREAK.finditer(text):
        joins_a_word = text[match.end()].islower()
        keep[match.start() if joins_a_word else match.start(1) : match.end()] = False
    return keep


def _collapsed_whitespace_mask(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    is_space = np.zeros(len(codes), dtype=bool)
    low = codes < len(_WHITESPACE_TABLE)
    is_space[low] = _WHITESPACE_TABLE[codes[low]]
    follows_space = np.ones(len(codes), dtype=bool)
    follows_space[1:] = is_space[:-1]
    keep = ~(is_space & follows_space)
    kept_positions = np.flatnonzero(keep)
    if len(kept_positions) and is_space[kept_positions[-1]]:
        keep[kept_positions[-1]] = False
    return keep, is_space


def _decode(codes: np.ndarray) -> str:
    return codes.astype(np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
