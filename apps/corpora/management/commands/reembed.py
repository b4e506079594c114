from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.corpora import services
from apps.corpora.embedding import EmbeddingModelError, configured_model_name
from apps.corpora.management.commands.ingest import corpus_or_error
from apps.corpora.models import Chunk, DocumentStatus


class Command(BaseCommand):
    help = "Re-embed every current chunk of a corpus, with a new model or the same one."

    def add_arguments(self, parser):
        parser.add_argument("--corpus", required=True, metavar="SLUG")
        parser.add_argument(
            "--model",
            default=None,
            help="a local sentence-transformers path (default: EMBEDDING_MODEL)",
        )

    def handle(self, *args, corpus, model, **options):
        target = corpus_or_error(corpus)
        model_name = model or configured_model_name()
        total = Chunk.objects.filter(corpus=target, document__status=DocumentStatus.ACTIVE).count()
        try:
            with tqdm(total=total, unit="chunk", desc="embedding", file=self.stderr) as bar:
                count = services.corpus_reembed(
                    corpus=target, model_name=model_name, on_progress=bar.update
                )
        except EmbeddingModelError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Re-embedded {count} chunks of {target.slug} with {model_name}.")
