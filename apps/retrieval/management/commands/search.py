from __future__ import annotations

import json
import textwrap
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.corpora.management.commands.ingest import corpus_or_error
from apps.corpora.models import Corpus
from apps.retrieval.presenters import hit_as_dict
from apps.retrieval.search import LEGS, RetrievalError, RetrievalOptions, retrieve_traced
from apps.retrieval.selectors import NotReadable, searchable_corpora

EXCERPT_CHARS = 100


class Command(BaseCommand):
    help = (
        "Search as a user would through POST /api/v1/search: only the corpora that user may "
        "read, with each leg's rank and score. Prints a table, or the API's JSON with --json."
    )

    def add_arguments(self, parser):
        parser.add_argument("query")
        parser.add_argument("--user", required=True, metavar="USERNAME", help="search as them")
        parser.add_argument(
            "--corpus",
            action="append",
            metavar="SLUG",
            help="repeatable; default: every corpus the user may read",
        )
        parser.add_argument("--k", type=int, default=10, help="how many hits (1-200)")
        parser.add_argument(
            "--legs", default=",".join(LEGS), help=f"comma-separated, among {', '.join(LEGS)}"
        )
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, query, user, corpus, k, legs, as_json, **options):
        searcher = user_or_error(user)
        corpora = corpora_or_error(searcher, corpus)
        chosen_legs = tuple(leg.strip() for leg in legs.split(",") if leg.strip())
        try:
            retrieval = retrieve_traced(query, corpora, k=k, options=RetrievalOptions(chosen_legs))
        except RetrievalError as exc:
            raise CommandError(str(exc)) from None
        result = {
            "query": query,
            "k": k,
            "fusion": retrieval.trace.fusion.as_dict(),
            "hits": [hit_as_dict(hit) for hit in retrieval.hits],
        }
        if as_json:
            self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))
        elif not retrieval.hits:
            self.stdout.write("no hits")
        else:
            if len(chosen_legs) > 1:
                self.stdout.write(f"fused by {retrieval.trace.fusion.describe()}")
            self.stdout.write(table(result["hits"]))


def user_or_error(username: str):
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"unknown user {username!r}") from None


def corpora_or_error(user, slugs: list[str] | None) -> list[Corpus]:
    try:
        return searchable_corpora(user, slugs)
    except NotReadable as exc:
        # Unlike the API, an operator may learn that a corpus exists.
        corpus_or_error(exc.name)
        raise CommandError(
            f"user {user.get_username()!r} cannot read corpus {exc.name!r}"
        ) from None


def table(hits: list[dict[str, Any]]) -> str:
    lines = [f"{'rank':>4}  {'fused':<6}  {'vector':<12}  {'bm25':<12}  source"]
    for hit in hits:
        scores = hit["scores"]
        source = " › ".join([hit["document"]["citation_label"], *hit["heading_path"]])
        lines.append(
            f"{scores['fused']['rank']:>4}  {scores['fused']['score']:.4f}  "
            f"{leg_cell(scores['vector']):<12}  {leg_cell(scores['bm25']):<12}  {source}"
        )
        lines.append(" " * 6 + textwrap.shorten(hit["text"], EXCERPT_CHARS, placeholder=" …"))
    return "\n".join(lines)


def leg_cell(score: dict[str, Any] | None) -> str:
    return "-" if score is None else f"{score['rank']} {score['score']:.3f}"
