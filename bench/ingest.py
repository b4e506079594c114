"""Ingestion throughput against the embedding model alone, as sentence-transformers runs it.

    python -m bench.ingest [--set obliqa] [--limit-docs N] [--keep]

Ingests one shared development set into a fresh corpus through the real ingestion job, then
encodes the very same chunk texts with sentence-transformers' `model.encode` (PyTorch) alone, and
prints both with their ratio. The pipeline embeds with ONNX Runtime (apps.corpora.embedding).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import django

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="obliqa", help="a folder of the shared data")
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="the shared data folder")
    parser.add_argument("--limit-docs", type=int, default=0, help="only the first N documents")
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
    }


def report(args: argparse.Namespace, r: dict) -> str:
    job, chunks = r["job"], r["chunks"]
    pipeline_rate = chunks / r["pipeline_seconds"]
    encode_rate = chunks / r["encode_seconds"]
    stages = job.seconds_by_stage
    lines = [
        f"Ingestion benchmark: shared set '{args.set}', {job.documents_created} documents, "
        f"{r['characters']:,} characters, {chunks:,} chunks "
        f"({os.cpu_count()} CPUs, torch threads {torch_threads()})",
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
    ]
    return "\n".join(lines)


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
