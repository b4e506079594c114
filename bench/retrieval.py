"""Retrieval latency at scale, against rank-bm25 as the keyword baseline.

    python -m bench.retrieval [--sizes 10000,100000] [--queries 200] [--source SLUG]

Scales the chunk table synthetically: the source corpus's real chunk texts repeated, their
vectors perturbed, in a fresh corpus per size. Times each leg and the whole of retrieve()
(query embedding included) at concurrency 1 and 4, and the BM25 leg against rank-bm25.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import django
import numpy as np

DOCUMENT_SIZE = 1000
NOISE = 0.02


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from django.conf import settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="chunk counts, comma-separated")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--source", default="", help="corpus whose chunks are repeated")
    parser.add_argument(
        "--questions",
        type=Path,
        default=settings.SHARED_DATA_DIR / "obliqa" / "questions.dev.jsonl",
    )
    parser.add_argument(
        "--baseline-queries",
        type=int,
        default=50,
        help="queries for rank-bm25; 0 skips it (it scores every chunk in Python, "
        "0.9 query/s at 100,000 chunks)",
    )
    return parser.parse_args(argv)


def source_chunks(slug: str) -> tuple[list[str], np.ndarray]:
    from django.db.models import Count

    from apps.corpora.models import Chunk, Corpus

    corpora = Corpus.objects.annotate(n=Count("documents__chunks")).order_by("-n")
    corpus = corpora.get(slug=slug) if slug else corpora.first()
    if corpus is None or corpus.n == 0:
        raise SystemExit("no ingested corpus to take chunk texts from: run make demo first")
    rows = Chunk.objects.filter(corpus=corpus).values_list("index_text", "embedding")
    texts, vectors = zip(*rows, strict=True)
    return list(texts), np.asarray(vectors, dtype=np.float32)


def load_queries(path: Path, count: int, texts: list[str]) -> list[str]:
    if path.exists():
        with path.open(encoding="utf-8") as lines:
            return [json.loads(line)["question"] for line in itertools.islice(lines, count)]
    return [
        " ".join(text.split()[5:17]) for text in itertools.islice(itertools.cycle(texts), count)
    ]


def build_corpus(size: int, texts: list[str], vectors: np.ndarray):

    from apps.corpora import services
    from apps.corpora.models import Chunk, Document

    corpus = services.corpus_create(
        slug=f"bench-{size}-{int(time.time())}", name=f"Benchmark {size}", domain="regulatory"
    )
    rng = np.random.default_rng(size)
    started = time.perf_counter()
    for first in range(0, size, DOCUMENT_SIZE):
        count = min(DOCUMENT_SIZE, size - first)
        document = Document.objects.create(
            corpus=corpus,
            external_id=f"synthetic-{first}",
            title="Synthetic",
            citation_label=f"SYN {first}",
            text="synthetic",
            sha256="-",
        )
        picks = [(first + i) % len(texts) for i in range(count)]
        noisy = vectors[picks] + rng.normal(scale=NOISE, size=(count, vectors.shape[1]))
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        Chunk.objects.bulk_create(
            Chunk(
                document=document,
                corpus=corpus,
                ordinal=i,
                char_start=0,
                char_end=1,
                text=texts[p],
                index_text=texts[p],
                token_count=1,
                content_hash=str(first + i),
                embedding=noisy[i],
            )
            for i, p in enumerate(picks)
        )
    load_seconds = time.perf_counter() - started
    # The table as autovacuum leaves it after a bulk load: fresh statistics (without them the
    # planner may pass over the HNSW index) and the new rows' visibility settled, so that the
    # timings do not depend on when autovacuum happened to run.
    with maintenance() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Chunk._meta.db_table}")
    return corpus, load_seconds


@contextmanager
def maintenance():
    """A cursor as the owner of the tables (a checkpoint, vacuuming and reindexing are theirs
    to run, not the application role's), on this thread's connection."""
    from apps.audit.roles import as_owner

    with as_owner() as connection, connection.cursor() as cursor:
        yield cursor


def checkpoint() -> None:
    """Write out now what loading and indexing dirtied: otherwise the checkpoint that their
    WAL triggers spreads its writes over the next minute, while the queries are timed."""
    with maintenance() as cursor:
        cursor.execute("CHECKPOINT")


def remove(corpus) -> None:
    """Delete the synthetic corpus and clear its rows away now, so that autovacuum does not
    clean them while the next size is loaded and timed. The HNSW index is rebuilt from the rows
    left (seconds) rather than vacuumed of the deleted ones (an hour at a million)."""
    from apps.corpora.models import Chunk

    corpus.delete()
    (hnsw,) = Chunk._meta.indexes
    with maintenance() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute(f"REINDEX INDEX {hnsw.name}")
        cursor.execute(f"VACUUM {Chunk._meta.db_table}")


def timed(call, items, concurrency: int) -> tuple[list[float], float]:
    """Latencies of `call` on each item from `concurrency` threads, and items per second. Each
    thread keeps its database connection between calls, as a server's worker does, and closes
    it at the end."""
    from django.db import connection

    def one(item):
        started = time.perf_counter()
        call(item)
        elapsed = time.perf_counter() - started
        connection.close_if_unusable_or_obsolete()  # what Django does after each request
        return elapsed

    all_workers = threading.Barrier(concurrency)

    def close(_):
        all_workers.wait()  # so that every worker thread takes one
        connection.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(one, items))
        seconds = time.perf_counter() - started
        list(pool.map(close, range(concurrency)))
    return latencies, len(items) / seconds


def measure(corpus, queries: list[str], baseline_queries: int) -> list[tuple[str, str]]:
    from apps.corpora.embedding import get_embedder
    from apps.evaluation.metrics import latency_percentiles
    from apps.retrieval import legs, services
    from apps.retrieval.filters import Filters
    from apps.retrieval.search import RetrievalOptions, retrieve

    build = services.bm25_index_build(corpus=corpus)
    checkpoint()
    ids, embedder, no_filters = [corpus.pk], get_embedder(), Filters()
    depth = RetrievalOptions().candidates_per_leg
    vectors = embedder.encode(queries)
    rows = [
        ("BM25 index build (s)", f"{build.build_seconds:.1f}"),
        ("BM25 index size (MB)", f"{build.size_bytes / 2**20:.1f}"),
    ]
    cases = {
        "query embedding": (lambda q: embedder.encode([q]), queries),
        "vector leg": (lambda v: legs.vector_leg([v], ids, no_filters, depth), list(vectors)),
        "BM25 leg": (lambda q: legs.Bm25Leg.load(ids, no_filters).rank([q], depth), queries),
        "retrieve()": (lambda q: retrieve(q, [corpus], k=10), queries),
    }
    for name, (call, items) in cases.items():
        for concurrency in (1, 4):
            latencies, qps = timed(call, items, concurrency)
            p50, p95 = latency_percentiles(latencies)
            rows.append(
                (
                    f"{name} c={concurrency} p50 / p95 ms, qps",
                    f"{p50 * 1000:.1f} / {p95 * 1000:.1f}, {qps:.0f}",
                )
            )
    if baseline_queries:
        rows += baseline_rows(corpus, queries[:baseline_queries])
    rows.append(
        ("peak memory (MB RSS)", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
    )
    return rows


def baseline_rows(corpus, queries: list[str]) -> list[tuple[str, str]]:
    from rank_bm25 import BM25Okapi

    from apps.corpora.models import Chunk
    from apps.retrieval.legs import current_indexes
    from apps.retrieval.tokenize import index_terms

    texts = Chunk.objects.filter(corpus=corpus).order_by("id").values_list("index_text", flat=True)
    started = time.perf_counter()
    oracle = BM25Okapi([index_terms(t) or ["\x00"] for t in texts])
    oracle_build = time.perf_counter() - started
    (index,) = current_indexes([corpus.pk]).values()
    terms = [index_terms(q) for q in queries]
    started = time.perf_counter()
    for query_terms in terms:
        index.search(query_terms, 50)
    ours = len(terms) / (time.perf_counter() - started)
    started = time.perf_counter()
    for query_terms in terms:
        np.argsort(-oracle.get_scores(query_terms))[:50]
    theirs = len(terms) / (time.perf_counter() - started)
    return [
        ("rank-bm25 index build (s)", f"{oracle_build:.1f}"),
        ("BM25 search qps: ours / rank-bm25", f"{ours:.0f} / {theirs:.1f}"),
        ("BM25 search speed-up over rank-bm25", f"{ours / theirs:.0f}x"),
    ]


def main(argv: list[str] | None = None) -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.conf import settings

    # As in production: DEBUG would log every statement, the loading ones with their vectors
    # (a million chunks: gigabytes), and wrap each timed one.
    settings.DEBUG = False
    import torch

    args = parse_args(argv)
    texts, vectors = source_chunks(args.source)
    queries = load_queries(args.questions, args.queries, texts)
    tables = []
    for size in (int(s) for s in args.sizes.split(",")):
        corpus, load_seconds = build_corpus(size, texts, vectors)
        try:
            rows = [("chunks", f"{size:,}"), ("synthetic load (s)", f"{load_seconds:.1f}")]
            rows += measure(corpus, queries, args.baseline_queries)
        finally:
            remove(corpus)
        table = "\n".join(f"{name:<44}{value:>24}" for name, value in rows)
        tables.append(
            f"Retrieval benchmark at {size:,} chunks ({len(queries)} queries, "
            f"{os.cpu_count()} CPUs, torch threads {torch.get_num_threads()})\n{table}"
        )
        print(tables[-1], flush=True)
    return "\n\n".join(tables)


if __name__ == "__main__":
    main()
