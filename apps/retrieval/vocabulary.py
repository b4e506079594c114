"""What the readable corpora's words are: how many chunks hold a term, and whether a term or a
form of it occurs at all. Read from the current BM25 indexes, so it costs no query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from apps.retrieval.bm25 import Bm25Index
from apps.retrieval.legs import current_indexes


@dataclass(frozen=True)
class Vocabulary:
    indexes: tuple[Bm25Index, ...]

    @property
    def chunks(self) -> int:
        return sum(len(index.chunk_ids) for index in self.indexes)

    def count(self, term: str) -> int:
        """Chunks holding `term` (an analysed term, or a pair of neighbouring terms)."""
        return sum(index.document_frequency(term) for index in self.indexes)

    def knows_prefix(self, prefix: str) -> bool:
        return any(index.knows_prefix(prefix) for index in self.indexes)


def corpus_vocabulary(corpus_ids: Sequence[int]) -> Vocabulary:
    return Vocabulary(tuple(current_indexes(corpus_ids).values()))
