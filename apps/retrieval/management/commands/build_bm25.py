from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.corpora.management.commands.ingest import corpus_or_error
from apps.corpora.models import Corpus
from apps.retrieval import services


class Command(BaseCommand):
    help = (
        "Build a new BM25 generation of a corpus from its current chunks now, instead of "
        "waiting for the background rebuild after ingestion; readers switch to it once ready."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--corpus", action="append", metavar="SLUG", help="repeatable")
        which.add_argument("--all", action="store_true", help="every corpus")

    def handle(self, *args, corpus, **options):
        if options["all"]:
            targets = list(Corpus.objects.all())
        else:
            # Every slug is checked before the first build, so a typo builds nothing.
            targets = [corpus_or_error(slug) for slug in corpus]
        if not targets:
            self.stdout.write("There are no corpora to index.")
        for target in targets:
            row = services.bm25_index_build(corpus=target)
            self.stdout.write(
                f"{target.slug}: generation {row.generation}, {row.chunk_count} chunks, "
                f"{row.build_seconds:.2f} s"
            )
