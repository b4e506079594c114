"""Ingestion throughput against the embedding model alone, as sentence-transformers runs it.

    python -m bench.ingest [--set obliqa] [--limit-docs N] [--compare-chunks N] [--keep]

Ingests one shared development set into a fresh corpus through the real ingestion job, then
encodes the very same chunk texts with sentence-transformers' `model.encode` (PyTorch) alone, and
prints both with their ratio. In the same run it compares the two runtimes the embedder can use
(apps.corpora.embedding) on the same evenly spaced chunks, in batches and one short query at a
time, which is how it chooses ONNX Runtime for queries and PyTorch for ingestion.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import django


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from django.conf import settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="obliqa", help="a folder of the shared data")
    parser.add_argument(
        "--data", type=Path, default=settings.SHARED_DATA_DIR, help="the shared data folder"
    )
    parser.add_argument("--limit-docs", type=int, default=0, help="only the first N documents")
    parser.add_argument(
        "--compare-chunks",
        type=int,
        default=2048,
        help="compare the runtimes on this many of the chunks (0: all)",
    )
    parser.add_argument("--queries", type=int, default=100, help="one-text queries per runtime")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark corpus")
    return parser.parse_args(argv)


def documents_file(args: argparse.Namespace, workdir: Path) -> Path:
    source = args.data / args.set / "documents.jsonl"
    if not source.exists():
        sys.exit(f"no {source}: pass --data with the folder of the shared development sets")
    if not args.limit_docs:
        return source
    target = workdir / "documents.jsonl"
    with source.open(encoding="utf-8") as lines, target.open("w", encoding="utf-8") as out:
        for number, line in enumerate(lines):
            if number >= args.limit_docs:
                break
            out.write(line)
    return target


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(args: argparse.Namespace) -> dict:
    from apps.corpora import services
    from apps.corpora.embedding import get_embedder
    from apps.corpora.models import Chunk, Corpus
    from apps.corpora.pipeline import run_ingestion_job

    load_before = os.getloadavg()[0]
    embedder = get_embedder()
    embedder.encode(["warm up the model"])
    slug = f"bench-{args.set}-{int(time.time())}"
    corpus = services.corpus_create(slug=slug, name=f"Benchmark {args.set}", domain="regulatory")
    try:
        with tempfile.TemporaryDirectory() as workdir:
            path = documents_file(args, Path(workdir))
            job = services.ingestion_job_create(corpus=corpus, paths=[str(path)])
            started = time.perf_counter()
            job = run_ingestion_job(job.pk)
            pipeline_seconds = time.perf_counter() - started
        pipeline_peak = peak_memory_mb()
        texts = list(Chunk.objects.filter(corpus=corpus).values_list("index_text", flat=True))
        characters = sum(len(d) for d in corpus.documents.values_list("text", flat=True))
        started = time.perf_counter()
        embedder.model.encode(
            texts,
            batch_size=embedder.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        encode_seconds = time.perf_counter() - started
        runtimes = compare_runtimes(embedder, texts, args)
    finally:
        if not args.keep:
            Corpus.objects.filter(pk=corpus.pk).delete()
    return {
        "job": job,
        "chunks": len(texts),
        "characters": characters,
        "pipeline_seconds": pipeline_seconds,
        "encode_seconds": encode_seconds,
        "peak_mb": pipeline_peak,
        "runtimes": runtimes,
        "load": (load_before, os.getloadavg()[0]),
    }


def compare_runtimes(embedder, texts: list[str], args: argparse.Namespace) -> dict:
    """Each runtime's batch throughput on the same chunks, and its median time for one short
    query; each runtime runs in turn, and every measure runs twice, keeping the faster."""
    from apps.corpora.embedding import Runtime

    step = max(1, len(texts) // args.compare_chunks) if args.compare_chunks else 1
    sample = texts[::step][: args.compare_chunks or None]
    queries = [" ".join(text.split()[:12]) for text in texts[:: max(1, len(texts) // 100)]]
    queries = (queries * (args.queries // max(1, len(queries)) + 1))[: args.queries]
    result = {"chunks": len(sample), "queries": len(queries)}
    for runtime in Runtime:
        for _ in range(2):
            started = time.perf_counter()
            embedder.encode(sample, runtime=runtime)
            rate = len(sample) / (time.perf_counter() - started)
            result[f"{runtime.value}_chunks_per_s"] = max(
                rate, result.get(f"{runtime.value}_chunks_per_s", 0.0)
            )
        times = []
        for query in queries * 2:
            started = time.perf_counter()
            embedder.encode([query], runtime=runtime)
            times.append(time.perf_counter() - started)
        result[f"{runtime.value}_query_ms"] = 1000 * statistics.median(times)
    return result


def report(args: argparse.Namespace, r: dict) -> str:
    job, chunks = r["job"], r["chunks"]
    pipeline_rate = chunks / r["pipeline_seconds"]
    encode_rate = chunks / r["encode_seconds"]
    stages = job.seconds_by_stage
    rt = r["runtimes"]
    lines = [
        f"Ingestion benchmark: shared set '{args.set}', {job.documents_created} documents, "
        f"{r['characters']:,} characters, {chunks:,} chunks "
        f"({os.cpu_count()} CPUs, torch threads {torch_threads()}, 1-minute load average "
        f"{r['load'][0]:.2f} before, {r['load'][1]:.2f} after)",
        "",
        f"{'measure':<34}{'value':>14}",
        f"{'pipeline wall time (s)':<34}{r['pipeline_seconds']:>14.1f}",
        f"{'pipeline chunks/s':<34}{pipeline_rate:>14.1f}",
        f"{'pipeline characters/s':<34}{r['characters'] / r['pipeline_seconds']:>14,.0f}",
    ]
    for stage in ("parse", "chunk", "embed", "write"):
        seconds = stages.get(stage, 0.0)
        share = 100 * seconds / r["pipeline_seconds"]
        lines.append(f"{'  ' + stage + ' (s, % of wall)':<34}{seconds:>8.1f} {share:>4.0f} %")
    lines += [
        f"{'peak memory (MB RSS)':<34}{r['peak_mb']:>14.0f}",
        f"{'PyTorch encode alone chunks/s':<34}{encode_rate:>14.1f}",
        f"{'pipeline / encode throughput':<34}{pipeline_rate / encode_rate:>14.2f}",
        "",
        f"Runtimes on {rt['chunks']:,} of the chunks (batches of {batch_size()}) and on "
        f"{rt['queries']} one-sentence queries:",
        f"{'runtime':<34}{'chunks/s':>14}{'query p50 (ms)':>16}",
        f"{'ONNX Runtime':<34}{rt['onnx_chunks_per_s']:>14.1f}{rt['onnx_query_ms']:>16.1f}",
        f"{'PyTorch':<34}{rt['torch_chunks_per_s']:>14.1f}{rt['torch_query_ms']:>16.1f}",
    ]
    return "\n".join(lines)


def batch_size() -> int:
    from django.conf import settings

    return settings.EMBEDDING_BATCH_SIZE


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def main(argv: list[str] | None = None) -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.conf import settings

    # As in production: DEBUG would log every statement, the loading ones with their vectors
    # (a million chunks: gigabytes), and wrap each timed one.
    settings.DEBUG = False
    args = parse_args(argv)
    table = report(args, run(args))
    print(table)
    return table


if __name__ == "__main__":
    main()
