"""Detection of a document's structure: its lines, headings and the blocks they open."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from apps.corpora.normalise import FORM_FEED, INVISIBLE_MARKS, NormalisedText

HEADING, UNIT = "heading", "unit"
# A section line opens a part as a heading does but carries body text of its own ("Held: ...").
_SECTION = "section"

_LABEL_MAX_CHARS = 80
_MERGED_LABEL_MAX_CHARS = 120
_STRUCTURED_FAMILIES = frozenset({"numbered", "outline", "markdown"})
_EDGE_CHARS = "".join(chr(code) for code in range(0x3001) if chr(code).isspace()) + INVISIBLE_MARKS
_WITHOUT_MARKS = str.maketrans("", "", INVISIBLE_MARKS)

_LINE = re.compile(r"[^\n\f]+")
_BLANK_LINE = re.compile(r"\n[^\S\n\f]*\n")
_MARKDOWN = re.compile(r"(#{1,6})\s+(.+?)[\s#]*")
_LEAD_WORD = r"(?P<lead>(?:PART|Part|ARTICLE|Article|SECTION|Section|CHAPTER|Chapter)\s+)?"
_NUMBER_PART = r"\.(?:\d{1,3}|[A-Za-z_]+|\(\w{1,4}\))"
_NUMBERED = re.compile(
    _LEAD_WORD + rf"(?P<number>\d{{1,3}}(?:{_NUMBER_PART})*)\.?(?:\s+(?P<title>.+))?"
)
_RULE_NUMBER = re.compile(rf"(?:(?:PART|Part)\s+)?(\d{{1,3}}(?:{_NUMBER_PART})+)(?!\w)")
_OUTLINE = re.compile(r"(?:(?P<roman>[IVXL]{1,6})|(?P<letter>[A-Z]))\.?")
_SECTION_SIGN = re.compile(r"§{1,2}\s*\d[\w.\-–()]*\.?(?:\s+(.{1,70}))?")
_HELD = re.compile(r"Held\s*:")
_CLAUSE_START = re.compile(
    r"\d{1,3}(?:\.\w+)*\.?\(\w{1,4}\)"
    r"|\d{1,3}(?:\.\w+)+\.?(?=\s|$)"
    r"|\d{1,3}\.(?=\s)"
    r"|\((?:[a-zA-Z]|[ivxlcIVXLC]{1,6}|\d{1,3})\)(?=\s|$)"
    r"|(?:[a-z]|[ivx]{1,6}|\d{1,3})[.)](?=\s)"
    r"|(?:PART|Part|ARTICLE|Article|SECTION|Section)\s+\d"
    r"|[•●▪◦\uf0b7*-]\s"
)
# The character before a full stop rules out initials such as "U. S." as sentence ends.
_SENTENCE_END = re.compile(r"(?:(?<=[a-z0-9)\]\"'”’%])[.!?]|[;:])[\"'”’)\]]* (?=\S)")


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    indent: int
    after_blank: bool
    after_page_break: bool


@dataclass(frozen=True)
class _Heading:
    label: str
    level: int
    family: str
    number: tuple[str, ...] | None = None
    captioned: bool = True


@dataclass(frozen=True)
class Block:
    first_token: int
    kind: str
    path: tuple[str, ...]


class Layout:
    def __init__(
        self,
        text: str,
        norm: NormalisedText,
        token_starts: list[int],
        furniture: list[tuple[int, int]],
    ) -> None:
        self.text, self.norm, self.token_starts = text, norm, token_starts
        self.furniture_starts = [start for start, _ in furniture]
        self.furniture_ends = [end for _, end in furniture]
        self.form_feeds = [match.start() for match in re.finditer(FORM_FEED, text)]

    def token_at(self, source_offset: int) -> int:
        return bisect_left(self.token_starts, bisect_left(self.norm.origin, source_offset))

    def is_word_start(self, token: int) -> bool:
        """Whether word piece `token` begins a word of the normalised text."""
        position = self.token_starts[token]
        return position == 0 or self.norm.text[position - 1] == " "

    def sentence_starts(self, first_token: int, end_token: int) -> list[int]:
        """Word pieces in [first_token, end_token) that open a sentence or a clause."""
        start, end = self.token_starts[first_token], self.token_starts[end_token - 1]
        ends = _SENTENCE_END.finditer(self.norm.text, start, end)
        return [bisect_left(self.token_starts, match.end()) for match in ends]

    def body(self, first_token: int, end_token: int) -> str:
        """The normalised text of word pieces [first_token, end_token)."""
        start = self.token_starts[first_token] if first_token else 0
        has_next = end_token < len(self.token_starts)
        return self.norm.text[start : self.token_starts[end_token] if has_next else None].strip()

    def span(self, first_token: int, end_token: int) -> tuple[int, int]:
        """The source range of word pieces [first_token, end_token), trimmed of blank edges."""
        # Bounds fall on word-piece starts so that a body tokenizes as it did in the document;
        # whatever lies between two word pieces goes with the earlier chunk.
        start = self.norm.origin[self.token_starts[first_token]] if first_token else 0
        has_next = end_token < len(self.token_starts)
        end = self.norm.origin[self.token_starts[end_token]] if has_next else len(self.text)
        while start < end and (edge := self._edge_after(start)) is not None:
            start = edge
        while end > start and (edge := self._edge_before(end)) is not None:
            end = edge
        return start, end

    def _edge_after(self, position: int) -> int | None:
        if self.text[position] in _EDGE_CHARS:
            return position + 1
        furniture = bisect_right(self.furniture_starts, position) - 1
        inside = furniture >= 0 and position < self.furniture_ends[furniture]
        return self.furniture_ends[furniture] if inside else None

    def _edge_before(self, position: int) -> int | None:
        if self.text[position - 1] in _EDGE_CHARS:
            return position - 1
        furniture = bisect_right(self.furniture_starts, position - 1) - 1
        inside = furniture >= 0 and position - 1 < self.furniture_ends[furniture]
        return self.furniture_starts[furniture] if inside else None

    def page_of(self, position: int) -> int | None:
        """The page holding source offset `position`, or None for a text without form feeds."""
        return bisect_right(self.form_feeds, position) + 1 if self.form_feeds else None

    def lines(self) -> list[_Line]:
        lines, previous_end = [], 0
        for match in _LINE.finditer(self.text):
            start, end = match.span()
            if bisect_left(self.norm.origin, start) == bisect_left(self.norm.origin, end):
                continue
            gap, content = self.text[previous_end:start], match.group()
            indent = len(content) - len(content.lstrip(_EDGE_CHARS))
            page_break = FORM_FEED in gap
            blank = not page_break and _BLANK_LINE.search(gap) is not None
            content_end = start + len(content.rstrip(_EDGE_CHARS))
            lines.append(_Line(start + indent, content_end, indent, blank, page_break))
            previous_end = end
        return lines


def parse_blocks(layout: Layout) -> list[Block]:
    """The blocks that headings and paragraph starts open, each with its heading path."""
    return _BlockParser(layout).parse()


@dataclass
class _Outline:
    entries: list[_Heading] = field(default_factory=list)
    last_letter: str = ""

    def path(self) -> tuple[str, ...]:
        return tuple(entry.label for entry in self.entries)

    def enter(self, heading: _Heading) -> None:
        self._leave_unrelated(heading.number, heading.level, keep_leading_numbers=False)
        self.entries.append(heading)

    def enter_rule(self, number: tuple[str, ...]) -> None:
        self._leave_unrelated(number, len(number), keep_leading_numbers=True)
        if not self.entries or self.entries[-1].number != number:
            self.entries.append(_Heading(".".join(number), len(number), "numbered", number))

    def _leave_unrelated(
        self, number: tuple[str, ...] | None, level: int, *, keep_leading_numbers: bool
    ) -> None:
        # A numbered heading keeps only the numbers that lead into its own ("3.3" for "3.3.4"),
        # whatever their depth; unnumbered headings nest by level alone.
        while self.entries:
            top = self.entries[-1]
            leads = number is not None and top.number == number[: len(top.number or ())]
            if leads and (keep_leading_numbers or top.level < level):
                return
            if not leads and top.level < level and (top.number is None or number is None):
                return
            self.entries.pop()

    def extend_top(self, label: str) -> None:
        top = self.entries[-1]
        merged = f"{top.label} {label}"[:_MERGED_LABEL_MAX_CHARS]
        self.entries[-1] = _Heading(merged, top.level, top.family, top.number)

    def child_level(self) -> int:
        levels = [e.level for e in self.entries if e.family in _STRUCTURED_FAMILIES]
        return max(levels, default=0) + 1


class _BlockParser:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.lines = layout.lines()
        self.outline = _Outline()
        self.previous_heading: _Heading | None = None

    def parse(self) -> list[Block]:
        blocks = []
        for index, line in enumerate(self.lines):
            content = self.layout.text[line.start : line.end].translate(_WITHOUT_MARKS)
            if kind := self._read(index, line, content):
                blocks.append(Block(self.layout.token_at(line.start), kind, self.outline.path()))
        return blocks

    def _read(self, index: int, line: _Line, content: str) -> str | None:
        previous, heading = self.previous_heading, self._heading(index, content)
        self.previous_heading = heading
        if heading is not None and heading.family == "caps" and _awaits_caption(previous):
            self.outline.extend_top(heading.label)
            return None
        if heading is not None:
            self.outline.enter(heading)
            return _SECTION if heading.family == "held" else HEADING
        if previous is None and not self._starts_unit(index, line, content):
            return None
        if rule := _RULE_NUMBER.match(content):
            self.outline.enter_rule(tuple(rule.group(1).split(".")))
        return UNIT

    def _heading(self, index: int, content: str) -> _Heading | None:
        label = content[:_LABEL_MAX_CHARS]
        if markdown := _MARKDOWN.fullmatch(content):
            level = len(markdown.group(1))
            return _Heading(markdown.group(2)[:_LABEL_MAX_CHARS], level, "markdown")
        if numbered := _numbered_heading(content):
            return numbered
        if outline := self._outline_marker(content):
            return outline
        if _HELD.match(content):
            return _Heading("Held", self.outline.child_level(), "held")
        if _is_section_sign_heading(content) and self._after_blank(index):
            return _Heading(label, self.outline.child_level(), "section")
        if _CLAUSE_START.match(content):
            return None
        if _is_caps_line(content):
            return _Heading(label, 1, "caps")
        if self._stands_before_body(index) and _is_short_title(content):
            return _Heading(label, self.outline.child_level(), "plain")
        return None

    def _outline_marker(self, content: str) -> _Heading | None:
        match = _OUTLINE.fullmatch(content)
        if match is None:
            return None
        roman, letter = match.group("roman"), match.group("letter")
        # "I" after "H" (or "V" after "U") continues a lettered list rather than opening part I.
        continues_letters = roman and chr(ord(roman[0]) - 1) == self.outline.last_letter
        if roman and not (len(roman) == 1 and continues_letters):
            return _Heading(roman, 1, "outline")
        self.outline.last_letter = letter or roman
        return _Heading(self.outline.last_letter, 2, "outline")

    def _after_blank(self, index: int) -> bool:
        return index == 0 or self.lines[index].after_blank

    def _stands_before_body(self, index: int) -> bool:
        if not self._after_blank(index):
            return False
        following = self.lines[index + 1] if index + 1 < len(self.lines) else None
        return following is not None and not (following.after_blank or following.after_page_break)

    def _starts_unit(self, index: int, line: _Line, content: str) -> bool:
        if index == 0 or line.after_blank or _CLAUSE_START.match(content):
            return True
        if index + 1 >= len(self.lines):
            return False
        previous, following = self.lines[index - 1], self.lines[index + 1]
        # Layout text marks a paragraph by indenting its first line past its neighbours.
        return line.indent >= following.indent + 2 and line.indent >= previous.indent + 2


def _awaits_caption(heading: _Heading | None) -> bool:
    # Capitals continue a capitals heading, or name a bare "ARTICLE 4" above them.
    return heading is not None and (heading.family == "caps" or not heading.captioned)


def _numbered_heading(content: str) -> _Heading | None:
    match = _NUMBERED.fullmatch(content)
    if match is None or len(content) > _LABEL_MAX_CHARS:
        return None
    number, title = tuple(match.group("number").split(".")), match.group("title")
    if title is None and len(number) < 2 and not match.group("lead"):
        return None
    if title is not None and not _is_title(title, sentence_case_allowed=len(number) > 1):
        return None
    label = " ".join(content.split())
    return _Heading(label, len(number), "numbered", number, captioned=title is not None)


def _is_title(words: str, *, sentence_case_allowed: bool) -> bool:
    if len(words.split()) > 12 or not (words[0].isupper() or words[0] in '("“'):
        return False
    if words[-1] in ",;-–—" or (words[-1] in ".:" and not words.isupper()):
        return False
    long_words = [word for word in words.split() if len(word) > 3]
    capitalised = [word for word in long_words if word[0].isupper()]
    return sentence_case_allowed or len(capitalised) * 2 >= len(long_words)


def _is_section_sign_heading(content: str) -> bool:
    match = _SECTION_SIGN.fullmatch(content)
    title = match and match.group(1)
    return match is not None and (title is None or _is_title(title, sentence_case_allowed=False))


def _is_caps_line(content: str) -> bool:
    if len(content) > _LABEL_MAX_CHARS:
        return False
    upper, lower = sum(map(str.isupper, content)), sum(map(str.islower, content))
    visible = len(content) - content.count(" ")
    return upper >= 4 and lower * 6 <= upper and (upper + lower) * 2 >= visible


def _is_short_title(content: str) -> bool:
    short = len(content) <= 60 and len(content.split()) <= 8 and "\t" not in content
    return short and _is_title(content, sentence_case_allowed=True)
