from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand

from apps.review.examples import checker_examples
from apps.review.selectors import effective_reviews


class Command(BaseCommand):
    help = (
        "Write the citations labelled in signed reviews (those in force: a corrected review "
        "gives way to its correction) as checker evaluation items, one JSON object a line in "
        "the format `evaluate_checker --examples` reads: correct as supported, misgrounded and "
        "incorrect as unsupported (kinds review_correct, review_misgrounded, review_incorrect)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, required=True, metavar="FILE.jsonl")

    def handle(self, *args, out: Path, **options):
        reviews = effective_reviews().select_related("answer").order_by("pk")
        items = checker_examples(reviews)
        out.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items))
        kinds = {}
        for item in items:
            kinds[item["kind"]] = kinds.get(item["kind"], 0) + 1
        shown = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())) or "none"
        self.stdout.write(f"Wrote {len(items)} items to {out} ({shown})")
