"""Structure-aware chunking of documents into citable pieces that fit the embedder."""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING

from apps.corpora.normalise import find_running_headers, normalise_for_index, page_furniture
from apps.corpora.structure import HEADING, UNIT, Block, Layout, parse_blocks

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

PATH_SEPARATOR = " > "
TITLE_SEPARATOR = " — "
TRUNCATION_MARK = "…"

# Long texts are tokenized as a batch of slices cut at spaces: a single huge call runs serially.
_TOKENIZE_SLICE_CHARS = 4000
_LEAN = {"return_attention_mask": False, "return_token_type_ids": False, "verbose": False}


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
    layout = Layout(text, norm, _token_starts(norm.text, tokenizer), page_furniture(text, headers))
    blocks = parse_blocks(layout)
    prefixes = _prefixes(title, {block.path for block in blocks}, tokenizer, settings)
    packer = _Packer(layout, blocks, prefixes, settings, title)
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
class _Piece:
    first_token: int
    end_token: int
    path: tuple[str, ...]
    prefixed: bool = True


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
        layout: Layout,
        blocks: list[Block],
        prefixes: dict[tuple[str, ...], tuple[str, int]],
        settings: ChunkingSettings,
        title: str,
    ) -> None:
        self.layout, self.blocks, self.prefixes, self.settings = layout, blocks, prefixes, settings
        self.bounds = [block.first_token for block in blocks] + [len(layout.token_starts)]
        self.title_key = _line_key(title)

    def pieces(self) -> list[_Piece]:
        packs: list[_Pack] = []
        for index, block in enumerate(self.blocks):
            is_body = self._is_body(index, block)
            if packs and self._joins(packs[-1], index, block):
                packs[-1].last = index
                if not packs[-1].has_body:
                    packs[-1].path = block.path
                packs[-1].has_body |= is_body
            else:
                packs.append(_Pack(index, index, block.path, is_body))
        spans = [(self.bounds[p.first], self.bounds[p.last + 1], p.path) for p in packs]
        spans = [span for span in spans if span[0] < span[1]]
        return [piece for span in spans or [(0, 0, ())] for piece in self._fit(*span)]

    def _is_body(self, index: int, block: Block) -> bool:
        """Headings are not body, and neither is a line that repeats the document title: as a
        chunk of its own it would match every question naming the topic and outrank the section
        that answers it, so it rides with what follows, as a heading does."""
        if block.kind == HEADING:
            return False
        text = self.layout.body(self.bounds[index], self.bounds[index + 1])
        return _line_key(text) != self.title_key

    def _joins(self, pack: _Pack, index: int, block: Block) -> bool:
        target, limit = self.settings.target_tokens, self.settings.max_tokens
        if not pack.has_body:
            # A heading keeps its body; only a run of bare headings is bounded by the target.
            return block.kind != HEADING or self._fits(pack.first, index, block.path, target)
        if block.kind != UNIT:
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


def _line_key(text: str) -> str:
    return " ".join(text.split()).casefold()


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


def _draft(ordinal: int, piece: _Piece, index_text: str, tokens: int, layout: Layout) -> ChunkDraft:
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
