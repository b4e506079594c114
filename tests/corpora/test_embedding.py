from __future__ import annotations

import os
import shutil
import time
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from apps.corpora import embedding, services
from apps.corpora.embedding import EmbeddingModelError, Runtime, get_embedder
from apps.corpora.models import Chunk, DocumentStatus
from tests.corpora.conftest import ingest


def random_sentence_model(path, tokenizer, hidden_size: int) -> str:
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=1,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(path / "bert")
    tokenizer.save_pretrained(path / "bert")
    transformer = models.Transformer(str(path / "bert"), max_seq_length=256)
    pooling = models.Pooling(hidden_size, pooling_mode="mean")
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(path / "st"))
    return str(path / "st")


@pytest.fixture(scope="session")
def random_384_model(tmp_path_factory, embedder):
    return random_sentence_model(tmp_path_factory.mktemp("random384"), embedder.tokenizer, 384)


def test_the_runtime_gives_the_sentence_transformers_vectors_in_input_order(embedder):
    texts = ["short", "a sentence about capital adequacy requirements", "mid", "risk " * 600]
    seen = []

    vectors = embedder.encode(texts, on_progress=seen.append)

    assert sum(seen) == 4
    expected = embedder.model.encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(vectors, expected, atol=1e-5)


def test_both_runtimes_give_the_same_vectors(embedder):
    texts = ["AML", "a firm must keep records for six years", "capital " * 300, "x"] * 10

    onnx = embedder.encode(texts, runtime=Runtime.ONNX)
    torch = embedder.encode(texts, runtime=Runtime.TORCH)

    np.testing.assert_allclose(onnx, torch, atol=1e-5)


def test_a_request_runs_on_onnx_and_ingestion_on_pytorch(embedder, monkeypatch):
    used = []
    for runtime, method in ((Runtime.ONNX, "onnx_batch"), (Runtime.TORCH, "torch_batch")):
        real = getattr(embedder, method)
        monkeypatch.setattr(
            embedder, method, lambda texts, real=real, r=runtime: used.append(r) or real(texts)
        )

    embedder.encode(["what is a politically exposed person?"] * embedder.batch_size)
    assert set(used) == {Runtime.ONNX}
    used.clear()
    embedder.encode(["a rule"] * (embedder.batch_size + 1))
    assert set(used) == {Runtime.TORCH}


def test_a_query_leaves_no_runtime_thread_spinning_afterwards(embedder):
    # ONNX Runtime's threads spin after a run, waiting for the next; on a 2-core server that was
    # about 40 ms of CPU burnt after each query, which the other requests needed.
    burnt = []
    for number in range(5):
        embedder.encode([f"How long must records be kept? {number}"], runtime=Runtime.ONNX)
        started = time.process_time()
        time.sleep(0.05)
        burnt.append(time.process_time() - started)
    assert sorted(burnt)[2] < 0.005, burnt


def test_a_query_is_embedded_on_one_thread(embedder):
    # A server embeds many requests' queries side by side; splitting each one across the cores
    # cost a fifth more CPU than running it on one (5.7 against 4.7 ms a query here).
    texts = [f"How long must customer due diligence records be kept? {n}" for n in range(30)]
    embedder.encode(texts[:1], runtime=Runtime.ONNX)
    cpu, wall = time.process_time(), time.perf_counter()
    for text in texts:
        embedder.encode([text], runtime=Runtime.ONNX)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert cpu < wall * 1.15, (cpu, wall)


def test_batches_of_texts_of_any_length_match_one_text_at_a_time(db, settings):
    settings.EMBEDDING_BATCH_SIZE = 2
    model = embedding.Embedder(embedding.PACKAGED_MODEL, batch_size=2)
    texts = ["a", "capital " * 400, "the firm must keep records", "AML", "x y z"]
    seen = []

    vectors = model.encode(texts, on_progress=seen.append)

    assert seen == [2, 2, 1]
    alone = np.vstack([model.encode([text]) for text in texts])
    np.testing.assert_allclose(vectors, alone, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_the_export_is_made_once_and_made_again_when_the_model_changes(
    tmp_path, settings, embedder, random_384_model, monkeypatch
):
    settings.MODEL_CACHE = tmp_path / "models"
    model_dir = tmp_path / "model"
    shutil.copytree(random_384_model, model_dir)
    exports = []
    real_export = embedding.export
    monkeypatch.setattr(embedding, "export", lambda *a: exports.append(a[1]) or real_export(*a))

    first = embedding.Embedder(str(model_dir), batch_size=4).encode(["a rule"])
    again = embedding.Embedder(str(model_dir), batch_size=4).encode(["a rule"])
    assert len(exports) == 1 and exports[0].exists()
    np.testing.assert_allclose(first, again)

    config = model_dir / "config_sentence_transformers.json"
    config.write_text(config.read_text())  # any change to the directory, even its times
    os.utime(config, ns=(0, 0))
    embedding.Embedder(str(model_dir), batch_size=4)
    assert len(exports) == 2 and exports[1] != exports[0]


def test_an_interrupted_export_leaves_nothing_behind(tmp_path, settings, embedder, monkeypatch):
    import torch

    settings.MODEL_CACHE = tmp_path / "models"

    def interrupted(*args, **kwargs):
        Path(args[2]).write_bytes(b"half an export")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch.onnx, "export", interrupted)
    with pytest.raises(KeyboardInterrupt):
        embedding.Embedder(embedding.PACKAGED_MODEL, batch_size=4)

    assert list((tmp_path / "models").rglob("*")) == [tmp_path / "models" / "embedding"]


def test_an_unknown_model_is_refused_without_a_download(db):
    with pytest.raises(EmbeddingModelError, match="models are never downloaded"):
        get_embedder("someone/some-model")


def test_changing_a_corpus_model_reembeds_its_current_chunks(corpus, rules_file, random_384_model):
    ingest(corpus, rules_file)
    before = dict(Chunk.objects.values_list("id", "embedding"))

    out = StringIO()
    call_command("reembed", corpus="alpha", model=random_384_model, stdout=out, stderr=StringIO())

    corpus.refresh_from_db()
    assert corpus.embedding_model == random_384_model
    after = dict(Chunk.objects.values_list("id", "embedding"))
    assert after.keys() == before.keys()
    assert all(not np.allclose(before[i], after[i]) for i in before)
    chunk = Chunk.objects.first()
    expected = get_embedder(random_384_model).encode([chunk.index_text])[0]
    np.testing.assert_allclose(chunk.embedding, expected, atol=1e-5)
    assert f"Re-embedded {len(after)} chunks" in out.getvalue()


def test_new_documents_use_the_corpus_model_and_old_vectors_are_not_reused(
    corpus, rules_file, tmp_path, random_384_model
):
    ingest(corpus, rules_file)
    rules_file.write_text(rules_file.read_text() + "\n\n3.1.1 A new rule on outsourcing.\n")
    services.corpus_reembed(corpus=corpus, model_name=random_384_model)
    corpus.refresh_from_db()

    job = ingest(corpus, rules_file)

    model = get_embedder(random_384_model)
    for chunk in Chunk.objects.filter(document__status=DocumentStatus.ACTIVE):
        np.testing.assert_allclose(chunk.embedding, model.encode([chunk.index_text])[0], atol=1e-5)
    assert job.chunks_reused > 0


def test_a_model_of_another_dimension_is_refused(corpus, tmp_path, embedder):
    small = random_sentence_model(tmp_path, embedder.tokenizer, 64)
    with pytest.raises(CommandError, match="gives 64-d vectors"):
        call_command("reembed", corpus="alpha", model=small, stderr=StringIO())
