"""A BM25 index over chunk texts, packed into bytes so that it can live in the database."""

from __future__ import annotations

import bisect
import io
import tarfile
import tempfile
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import bm25s
import numpy as np

from apps.retrieval.tokenize import index_terms

CHUNK_IDS_FILE = "chunk_ids.npy"


class Bm25Index:
    """BM25 scores for a fixed set of chunks, searchable by tokenize.index_terms of a query."""

    def __init__(self, retriever: bm25s.BM25, chunk_ids: np.ndarray) -> None:
        self.retriever = retriever
        self.chunk_ids = chunk_ids
        self.position = {int(chunk_id): i for i, chunk_id in enumerate(chunk_ids)}

    @classmethod
    def build(cls, chunk_ids: Sequence[int], texts: Sequence[str]) -> Bm25Index:
        retriever = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
        # bm25s needs at least one term per document; an empty chunk gets a term nobody asks for.
        retriever.index([index_terms(text) or ["\x00"] for text in texts], show_progress=False)
        return cls(retriever, np.asarray(chunk_ids, dtype=np.int64))

    def search(
        self, terms: Sequence[str], k: int, allowed_chunk_ids: set[int] | None = None
    ) -> list[tuple[int, float]]:
        """The best `k` (chunk id, score) pairs with a positive score, best first."""
        token_ids = self.retriever.get_tokens_ids(list(terms))
        if not token_ids or not len(self.chunk_ids):
            return []
        scores = self.retriever.get_scores(token_ids)
        if allowed_chunk_ids is not None:
            mask = np.zeros(len(self.chunk_ids), dtype=bool)
            mask[[self.position[c] for c in allowed_chunk_ids if c in self.position]] = True
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self.chunk_ids[i]), float(scores[i])) for i in top if scores[i] > 0]

    def document_frequency(self, term: str) -> int:
        """How many of the indexed chunks hold `term`."""
        term_id = self.retriever.vocab_dict.get(term)
        if term_id is None:
            return 0
        starts = self.retriever.scores["indptr"]
        return int(starts[term_id + 1] - starts[term_id])

    def knows_prefix(self, prefix: str) -> bool:
        """Whether some indexed term starts with `prefix`."""
        at = bisect.bisect_left(self.sorted_terms, prefix)
        return at < len(self.sorted_terms) and self.sorted_terms[at].startswith(prefix)

    @cached_property
    def sorted_terms(self) -> list[str]:
        return sorted(self.retriever.vocab_dict)

    def to_bytes(self) -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            self.retriever.save(folder, show_progress=False)
            np.save(Path(folder) / CHUNK_IDS_FILE, self.chunk_ids)
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w") as archive:
                for path in sorted(Path(folder).iterdir()):
                    archive.add(path, arcname=path.name)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, payload: bytes) -> Bm25Index:
        with tempfile.TemporaryDirectory() as folder:
            with tarfile.open(fileobj=io.BytesIO(payload), mode="r") as archive:
                archive.extractall(folder, filter="data")
            retriever = bm25s.BM25.load(folder, show_progress=False)
            chunk_ids = np.load(Path(folder) / CHUNK_IDS_FILE)
        return cls(retriever, chunk_ids)
