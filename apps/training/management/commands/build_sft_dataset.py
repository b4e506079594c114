from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.evaluation.questions import EvaluationError, progress_bar
from apps.training.sft_data import DatasetConfig, DatasetError, dataset_build


class Command(BaseCommand):
    help = (
        "Build a supervised fine-tuning dataset from the tuning halves of question files in the "
        "shared format: each question's passages retrieved as an answer retrieves them, the "
        "prompt built by the product's prompt builder, and a target answer JSON that passes the "
        "citation checker (or an abstention). The held-out halves are never read into it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--questions", nargs="+", required=True, type=Path, metavar="FILE")
        parser.add_argument("--out", required=True, type=Path, metavar="DIR")
        defaults = DatasetConfig()
        parser.add_argument(
            "--sources", type=int, default=defaults.sources, help="passages per prompt"
        )
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument(
            "--limit-per-file", type=int, metavar="N", help="at most N tuning questions per file"
        )
        parser.add_argument(
            "--review-corrections",
            action="store_true",
            help="add the answers whose citations auditors labelled misgrounded, incorrect or "
            "fabricated in signed reviews, the target keeping only the statements whose every "
            "citation was labelled correct (or abstaining)",
        )
        parser.add_argument(
            "--max-abstention-share",
            type=float,
            metavar="SHARE",
            help="at most this share (0-1) of the examples are abstentions: a seeded sample of "
            "them is kept, every answer is",
        )
        parser.add_argument(
            "--keep-source-order",
            action="store_true",
            help="number the sources in retrieved order instead of shuffling them",
        )

    def handle(self, *args, questions, out, sources, seed, limit_per_file, **options):
        if not 1 <= sources <= 20:
            raise CommandError(f"--sources must be between 1 and 20, got {sources}")
        share = options["max_abstention_share"]
        if share is not None and not 0 <= share < 1:
            raise CommandError(f"--max-abstention-share must be from 0 up to 1, got {share}")
        config = DatasetConfig(
            sources=sources,
            seed=seed,
            limit_per_file=limit_per_file,
            shuffle_sources=not options["keep_source_order"],
            review_corrections=options["review_corrections"],
            max_abstention_share=share,
        )
        with progress_bar(self.stderr, total=None, unit="question", desc="examples") as bar:
            try:
                manifest = dataset_build(
                    questions=questions,
                    out=out,
                    config=config,
                    on_question=lambda: bar.update(1),
                    stderr=self.stderr,
                )
            except (DatasetError, EvaluationError) as exc:
                raise CommandError(str(exc)) from None
        for set_name, kinds in manifest["counts"].items():
            shown = ", ".join(f"{kind} {number}" for kind, number in kinds.items())
            self.stdout.write(f"{set_name:12} {shown}")
        self.stdout.write(
            f"Wrote {manifest['examples']} examples to {out} "
            f"(dataset sha256 {manifest['dataset_sha256'][:16]})"
        )
