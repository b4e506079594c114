"""Structure-aware chunking of documents into citable pieces that fit the embedder."""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from apps.corpora.normalise import (
    FORM_FEED,
    INVISIBLE_MARKS,
    NormalisedText,
    find_running_headers,
    normalise_for_index,
    page_furniture,
)

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

PATH_SEPARATOR = " > "
TITLE_SEPARATOR = " — "
TRUNCATION_MARK = "…"

_HEADING, _SECTION, _UNIT = "heading", "section", "unit"
_LABEL_MAX_CHARS = 80
_MERGED_LABEL_MAX_CHARS = 120
# Long texts are tokenized as a batch of slices cut at spaces: a single huge call runs serially.
_TOKENIZE_SLICE_CHARS = 4000
_STRUCTURED_FAMILIES = frozenset({"numbered", "outline", "markdown"})
_EDGE_CHARS = "".join(chr(code) for code in range(0x3001) if chr(code).isspace()) + INVISIBLE_MARKS
_WITHOUT_MARKS = str.maketrans("", "", INVISIBLE_MARKS)
_LEAN = {"return_attention_mask": False, "return_token_type_ids": False, "verbose": False}

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
class ChunkingSettings:
    max_tokens: int = 256
    target_tokens: int = 200
    overlap_tokens: int = 32
    include_headings: bool = True

    def __post_init__(self) -> None:
        for name in ("max_tokens", "target_tokens", "overlap_tokens"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        if not 16 <= self.target_tokens <= self.max_tokens:
            raise ValueError(
                f"target_tokens must be between 16 and max_tokens ({self.max_tokens}), "
                f"got {self.target_tokens}"
            )
        if not 0 <= self.overlap_tokens < self.target_tokens / 2:
            raise ValueError(
                "overlap_tokens must be at least 0 and less than half of target_tokens "
                f"({self.target_tokens}), got {self.overlap_tokens}"
            )


@dataclass(frozen=True)
class ChunkDraft:
    ordinal: int
    char_start: int
    char_end: int
    text: str
    heading_path: tuple[str, ...]
    page_start: int | None
    page_end: int | None
    index_text: str
    token_count: int
    content_hash: str


def chunk_document(
    text: str, *, title: str, tokenizer: PreTrainedTokenizerBase, settings: ChunkingSettings
) -> list[ChunkDraft]:
    """Split `text` into ordered chunks, overlapping only where a unit had to be cut."""
    headers = find_running_headers(text)
    norm = normalise_for_index(text, headers)
    if not norm.text:
        return []
    layout = _Layout(text, norm, _token_starts(norm.text, tokenizer), page_furniture(text, headers))
    blocks = _BlockParser(layout).parse()
    prefixes = _prefixes(title, {block.path for block in blocks}, tokenizer, settings)
    packer = _Packer(layout, blocks, prefixes, settings)
    verified = _verified(packer.pieces(), packer, tokenizer, settings.max_tokens)
    return [_draft(ordinal, *item, layout) for ordinal, item in enumerate(verified)]


def _offsets(tokenizer: PreTrainedTokenizerBase, texts: list[str]) -> list[list[tuple[int, int]]]:
    if not texts:
        return []
    encoded = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True, **_LEAN)
    return encoded["offset_mapping"]


def _token_starts(text: str, tokenizer: PreTrainedTokenizerBase) -> list[int]:
    slice_starts = [0]
    while len(text) - slice_starts[-1] > _TOKENIZE_SLICE_CHARS:
        space = text.find(" ", slice_starts[-1] + _TOKENIZE_SLICE_CHARS)
        if space < 0:
            break
        slice_starts.append(space)
    slice_ends = [*slice_starts[1:], len(text)]
    slices = [text[start:end] for start, end in zip(slice_starts, slice_ends, strict=True)]
    offsets = _offsets(tokenizer, slices)
    return [
        base + start
        for base, pairs in zip(slice_starts, offsets, strict=True)
        for start, _ in pairs
    ]


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
class _Block:
    first_token: int
    kind: str
    path: tuple[str, ...]


@dataclass(frozen=True)
class _Piece:
    first_token: int
    end_token: int
    path: tuple[str, ...]
    prefixed: bool = True


class _Layout:
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
        position = self.token_starts[token]
        return position == 0 or self.norm.text[position - 1] == " "

    def sentence_starts(self, first_token: int, end_token: int) -> list[int]:
        start, end = self.token_starts[first_token], self.token_starts[end_token - 1]
        ends = _SENTENCE_END.finditer(self.norm.text, start, end)
        return [bisect_left(self.token_starts, match.end()) for match in ends]

    def body(self, first_token: int, end_token: int) -> str:
        start = self.token_starts[first_token] if first_token else 0
        has_next = end_token < len(self.token_starts)
        return self.norm.text[start : self.token_starts[end_token] if has_next else None].strip()

    def span(self, first_token: int, end_token: int) -> tuple[int, int]:
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
    def __init__(self, layout: _Layout) -> None:
        self.layout = layout
        self.lines = layout.lines()
        self.outline = _Outline()
        self.previous_heading: _Heading | None = None

    def parse(self) -> list[_Block]:
        blocks = []
        for index, line in enumerate(self.lines):
            content = self.layout.text[line.start : line.end].translate(_WITHOUT_MARKS)
            if kind := self._read(index, line, content):
                blocks.append(_Block(self.layout.token_at(line.start), kind, self.outline.path()))
        return blocks

    def _read(self, index: int, line: _Line, content: str) -> str | None:
        previous, heading = self.previous_heading, self._heading(index, content)
        self.previous_heading = heading
        if heading is not None and heading.family == "caps" and _awaits_caption(previous):
            self.outline.extend_top(heading.label)
            return None
        if heading is not None:
            self.outline.enter(heading)
            return _SECTION if heading.family == "held" else _HEADING
        if previous is None and not self._starts_unit(index, line, content):
            return None
        if rule := _RULE_NUMBER.match(content):
            self.outline.enter_rule(tuple(rule.group(1).split(".")))
        return _UNIT

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


def _prefixes(
    title: str,
    paths: set[tuple[str, ...]],
    tokenizer: PreTrainedTokenizerBase,
    settings: ChunkingSettings,
) -> dict[tuple[str, ...], tuple[str, int]]:
    if not settings.include_headings:
        return {}
    # A quarter of the target leaves most of every chunk to its body.
    cap, title, ordered = settings.target_tokens // 4, " ".join(title.split()), sorted(paths)
    path_texts = [PATH_SEPARATOR.join(path) for path in ordered]
    title_offsets, *path_offsets = _offsets(tokenizer, [title, *path_texts])
    texts = []
    for path_text, offsets in zip(path_texts, path_offsets, strict=True):
        # The path gets at least half the cap; the title keeps whatever the path leaves.
        path_share = min(len(offsets), max(cap // 2, cap - 1 - len(title_offsets)))
        title_share = cap - 1 - path_share if path_share else cap
        parts = (
            _keep_leading(title, title_offsets, title_share),
            _keep_trailing(path_text, offsets, path_share),
        )
        texts.append(TITLE_SEPARATOR.join(part for part in parts if part))
    counts = [len(offsets) for offsets in _offsets(tokenizer, texts)]
    return dict(zip(ordered, zip(texts, counts, strict=True), strict=True))


# Cuts fall where a word starts, so the kept tokens stay exactly as they were counted.
def _keep_leading(text: str, offsets: list[tuple[int, int]], limit: int) -> str:
    if len(offsets) <= limit:
        return text
    word_starts = [i for i in range(1, limit + 1) if text[offsets[i][0] - 1].isspace()]
    return text[: offsets[word_starts[-1] if word_starts else limit][0]].rstrip()


def _keep_trailing(text: str, offsets: list[tuple[int, int]], limit: int) -> str:
    if len(offsets) <= limit:
        return text
    if limit < 2:
        return ""
    candidates = range(len(offsets) - limit + 1, len(offsets))
    word_starts = [i for i in candidates if text[offsets[i][0] - 1].isspace()]
    cut = offsets[word_starts[0] if word_starts else candidates.start][0]
    return f"{TRUNCATION_MARK} {text[cut:]}"


@dataclass
class _Pack:
    first: int
    last: int
    path: tuple[str, ...]
    has_body: bool


class _Packer:
    def __init__(
        self,
        layout: _Layout,
        blocks: list[_Block],
        prefixes: dict[tuple[str, ...], tuple[str, int]],
        settings: ChunkingSettings,
    ) -> None:
        self.layout, self.blocks, self.prefixes, self.settings = layout, blocks, prefixes, settings
        self.bounds = [block.first_token for block in blocks] + [len(layout.token_starts)]

    def pieces(self) -> list[_Piece]:
        packs: list[_Pack] = []
        for index, block in enumerate(self.blocks):
            if packs and self._joins(packs[-1], index, block):
                packs[-1].last = index
                if not packs[-1].has_body:
                    packs[-1].path = block.path
                packs[-1].has_body |= block.kind != _HEADING
            else:
                packs.append(_Pack(index, index, block.path, block.kind != _HEADING))
        spans = [(self.bounds[p.first], self.bounds[p.last + 1], p.path) for p in packs]
        spans = [span for span in spans if span[0] < span[1]]
        return [piece for span in spans or [(0, 0, ())] for piece in self._fit(*span)]

    def _joins(self, pack: _Pack, index: int, block: _Block) -> bool:
        target, limit = self.settings.target_tokens, self.settings.max_tokens
        if not pack.has_body:
            # A heading keeps its body; only a run of bare headings is bounded by the target.
            return block.kind != _HEADING or self._fits(pack.first, index, block.path, target)
        if block.kind != _UNIT:
            return False
        # A stray line such as a page number rides along rather than becoming a chunk of its own.
        scrap = target // 20
        if self.bounds[index] - self.bounds[pack.first] <= scrap:
            return True
        is_scrap = self.bounds[index + 1] - self.bounds[index] <= scrap
        return self._fits(pack.first, index, pack.path, limit if is_scrap else target)

    def _fits(self, first: int, last: int, path: tuple[str, ...], limit: int) -> bool:
        return self.bounds[last + 1] - self.bounds[first] <= self._budget(limit, path)

    def _budget(self, limit: int, path: tuple[str, ...]) -> int:
        return max(1, limit - 2 - self.prefixes.get(path, ("", 0))[1])

    def _fit(self, first: int, end: int, path: tuple[str, ...]) -> list[_Piece]:
        if end - first <= self._budget(self.settings.max_tokens, path):
            return [_Piece(first, end, path)]
        return self.split(_Piece(first, end, path), self._budget(self.settings.target_tokens, path))

    def split(self, piece: _Piece, budget: int) -> list[_Piece]:
        first, end = piece.first_token, piece.end_token
        inner_blocks = self.bounds[bisect_right(self.bounds, first) : bisect_left(self.bounds, end)]
        preferred = sorted({*self.layout.sentence_starts(first, end), *inner_blocks})
        pieces = []
        while end - first > budget:
            cut = self._cut(first, first + budget, preferred)
            pieces.append(_Piece(first, cut, piece.path, piece.prefixed))
            first = self._resume(first, cut)
        return [*pieces, _Piece(first, end, piece.path, piece.prefixed)]

    def _cut(self, first: int, limit: int, preferred: list[int]) -> int:
        index = bisect_right(preferred, limit) - 1
        if index >= 0 and preferred[index] > first + (limit - first) // 3:
            return preferred[index]
        word_starts = (t for t in range(limit, first, -1) if self.layout.is_word_start(t))
        return next(word_starts, limit)

    def _resume(self, first: int, cut: int) -> int:
        candidate = cut - self.settings.overlap_tokens
        if candidate <= first:
            return cut
        return next((t for t in range(candidate, cut) if self.layout.is_word_start(t)), cut)

    def index_text(self, piece: _Piece) -> str:
        body = self.layout.body(piece.first_token, piece.end_token)
        prefix = self.prefixes.get(piece.path, ("", 0))[0] if piece.prefixed else ""
        return f"{prefix}\n{body}" if prefix else body

    def refit(self, piece: _Piece, excess: int) -> list[_Piece]:
        tokens = piece.end_token - piece.first_token
        if tokens > 1:
            return self.split(piece, max(1, tokens - excess))
        if piece.prefixed:
            return [_Piece(piece.first_token, piece.end_token, piece.path, prefixed=False)]
        raise ValueError(f"word piece {piece.first_token} cannot fit the token limit")


def _verified(
    pieces: list[_Piece], packer: _Packer, tokenizer: PreTrainedTokenizerBase, max_tokens: int
) -> list[tuple[_Piece, str, int]]:
    index_texts = [packer.index_text(piece) for piece in pieces]
    encoded = tokenizer(index_texts, **_LEAN)
    verified = []
    for piece, index_text, ids in zip(pieces, index_texts, encoded["input_ids"], strict=True):
        if len(ids) <= max_tokens:
            verified.append((piece, index_text, len(ids)))
        else:
            refitted = packer.refit(piece, len(ids) - max_tokens)
            verified.extend(_verified(refitted, packer, tokenizer, max_tokens))
    return verified


def _draft(
    ordinal: int, piece: _Piece, index_text: str, tokens: int, layout: _Layout
) -> ChunkDraft:
    start, end = layout.span(piece.first_token, piece.end_token)
    return ChunkDraft(
        ordinal=ordinal,
        char_start=start,
        char_end=end,
        text=layout.text[start:end],
        heading_path=piece.path,
        page_start=layout.page_of(start),
        page_end=layout.page_of(end - 1),
        index_text=index_text,
        token_count=tokens,
        content_hash=hashlib.sha256(index_text.encode("utf-8")).hexdigest(),
    )
