from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.corpora import services
from apps.corpora.models import Domain


class Command(BaseCommand):
    help = "Create a corpus to ingest documents into."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--domain", required=True, choices=Domain.values)
        parser.add_argument("--description", default="")
        parser.add_argument("--jurisdiction", default="")

    def handle(self, *args, slug, name, domain, description, jurisdiction, **options):
        try:
            corpus = services.corpus_create(
                slug=slug,
                name=name,
                domain=domain,
                description=description,
                jurisdiction=jurisdiction,
            )
        except ValidationError as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(f"cannot create corpus {slug!r}: {problems}") from None
        self.stdout.write(f"Created corpus {corpus.slug} ({corpus.get_domain_display()}).")
