"""HTML pages: the visible text, laid out in lines and paragraphs as a browser would show it."""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, PageElement, Tag
from bs4.element import PreformattedString
from bs4.exceptions import ParserRejectedMarkup

from apps.corpora.parsers.library_errors import quiet_libraries, short_reason
from apps.corpora.parsers.results import EMPTY_FILE, ParseResult, Rejected, single_document
from apps.corpora.parsers.text import collapse_whitespace, reject_binary

_SPACES = re.compile(r"[ \t]*\t[ \t]*| {2,}")
_EXTRA_BLANK_LINES = re.compile(r"\n{3,}")

_DROPPED = frozenset(
    {"script", "style", "nav", "header", "footer", "noscript", "template", "head", "svg"}
)
_BLANK_LINE = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl"}
)
_LINE = frozenset(
    {"div", "li", "tr", "br", "hr", "section", "article", "main", "aside", "dt", "dd"}
    | {"address", "figure", "figcaption", "caption", "details", "summary", "form", "fieldset"}
)
_CELLS = frozenset({"td", "th"})


def parse_html(path: Path, raw: bytes, external_id: str) -> ParseResult:
    """One document from an HTML page, without its scripts, styles and navigation."""
    if not raw.strip():
        raise Rejected(EMPTY_FILE)
    reject_binary(raw)
    try:
        with quiet_libraries():
            soup = BeautifulSoup(raw, "html.parser")
    except ParserRejectedMarkup as error:
        raise Rejected(f"unreadable HTML ({short_reason(error)})") from error
    text = _render(_parts(soup.body or soup))
    if not text:
        raise Rejected("no text in the HTML once scripts, styles and navigation are removed")
    return single_document(path, external_id, _title(soup) or path.stem, text, "html", {})


def _title(soup: BeautifulSoup) -> str:
    for tag in (soup.title, soup.find("h1")):
        title = collapse_whitespace(tag.get_text()).strip() if tag else ""
        if title:
            return title
    return ""


def _parts(root: Tag) -> list[str | int]:
    # Parts are text or the number of line breaks a block boundary needs (1, or 2 for a
    # blank line). An explicit stack, because deeply nested markup would overflow recursion.
    parts: list[str | int] = []
    stack: list[PageElement | int] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, int):
            parts.append(node)
        elif isinstance(node, NavigableString):
            parts.append(_string(node))
        elif isinstance(node, Tag) and node.name not in _DROPPED:
            breaks = 2 if node.name in _BLANK_LINE else int(node.name in _LINE)
            parts += [breaks, _prefix(node)]
            stack.append(breaks)
            if node.name == "pre":
                parts.append(node.get_text().replace("\r\n", "\n"))
            else:
                stack.extend(reversed(node.contents))
    return parts


def _string(node: NavigableString) -> str:
    # Comments, CDATA and doctypes are PreformattedStrings: markup, not page text.
    return "" if isinstance(node, PreformattedString) else collapse_whitespace(node)


def _prefix(node: Tag) -> str:
    if node.name in _CELLS:
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
