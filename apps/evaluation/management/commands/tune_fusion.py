from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.evaluation import fusion_tuning
from apps.evaluation.questions import EvaluationError
from apps.retrieval import tuned_fusion

SHOWN = 5


class Command(BaseCommand):
    help = (
        "Choose the fusion method and leg weights of a domain from question files in the shared "
        "format, each evaluated on the documents.jsonl beside it as evaluate_retrieval does. "
        "Candidates are scored by nDCG@k on the tuning half of the questions and reported on "
        "the held-out half too. With --write, the choice becomes the domain's default fusion "
        f"in {tuned_fusion.FUSION_PATH.name}."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--questions",
            required=True,
            action="append",
            type=Path,
            metavar="FILE.jsonl",
            help="repeatable; the corpora of all files must share one domain",
        )
        parser.add_argument("--k", type=int, default=10, help="cutoff for nDCG")
        parser.add_argument("--write", action="store_true", help="record the choice")

    def handle(self, *args, questions, k, write, **options):
        if not 1 <= k <= 200:
            raise CommandError(f"k must be between 1 and 200, got {k}")
        try:
            tuning = fusion_tuning.tune(questions, k=k, stderr=self.stderr)
        except (EvaluationError, fusion_tuning.TuningError) as exc:
            raise CommandError(str(exc)) from None
        self.write_table(tuning)
        chosen = tuning.chosen
        self.stdout.write(f"Chosen for {tuning.domain}: {chosen.choice.describe()}")
        if write:
            tuned_fusion.save(tuning.domain, chosen.choice, tuning.evidence())
            self.stdout.write(f"Wrote {tuned_fusion.FUSION_PATH}")

    def write_table(self, tuning: fusion_tuning.Tuning) -> None:
        names = [s.name for s in tuning.sets]
        header = f"{'fusion':<48}{'tune':>8}{'held-out':>10}" + "".join(
            f"{name[:14]:>16}" for name in names
        )
        self.stdout.write(f"nDCG@{tuning.k}, mean over the sets (per set: tune / held-out)")
        self.stdout.write(header + "\n" + "-" * len(header))
        shown = tuning.scores[:SHOWN]
        if tuning.baseline.choice not in [s.choice for s in shown]:
            shown.append(tuning.baseline)
        for scores in shown:
            cells = "".join(
                f"{scores.per_set[n]['tune']:>9.3f} /{scores.per_set[n]['held_out']:.3f}"
                for n in names
            )
            self.stdout.write(
                f"{scores.choice.describe():<48}{scores.ndcg['tune']:>8.3f}"
                f"{scores.ndcg['held_out']:>10.3f}{cells}"
            )
