from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.evaluation import checker
from apps.evaluation.checker_examples import labelled_examples
from apps.evaluation.json_output import write_json
from apps.evaluation.questions import EvaluationError

SHARED_DATA = Path(__file__).resolve().parents[4].parent / "shared" / "data"
DEFAULT_SETS = ("obliqa", "cuad", "medquad", "scotus", "pubmedqa")


class Command(BaseCommand):
    help = (
        "Measure the citation checker on a labelled set built from the gold passages of "
        "question files: faithful sentences (verbatim, reworded, attributed) against corrupted "
        "ones (number or date changed, negation flipped, party swapped, wrong passage cited). "
        "Fits the support cut-offs on half of the questions and reports both halves with the "
        "shipped cut-offs, plus checking time per answer."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--questions",
            nargs="+",
            type=Path,
            metavar="FILE.jsonl",
            default=[SHARED_DATA / name / "questions.dev.jsonl" for name in DEFAULT_SETS],
            help="question files in the shared format, each with its documents.jsonl beside it",
        )
        parser.add_argument(
            "--per-file", type=int, default=300, metavar="N", help="questions used per file"
        )
        parser.add_argument("--json", type=Path, dest="json_out", metavar="OUT")

    def handle(self, *args, questions, per_file, json_out, **options):
        if per_file < 1:
            raise CommandError(f"--per-file must be at least 1, got {per_file}")
        missing = [
            str(p)
            for p in questions
            if not (p.is_file() and p.with_name("documents.jsonl").is_file())
        ]
        if missing:
            raise CommandError(
                f"no question file with a documents.jsonl beside it: {', '.join(missing)}"
            )
        try:
            examples = labelled_examples(questions, per_file)
        except EvaluationError as exc:
            raise CommandError(str(exc)) from None
        if not examples:
            raise CommandError("the question files gave no gold passage to build statements from")
        self.stderr.write(f"{len(examples)} labelled statements; scoring…")
        report = checker.report(examples)
        self.write_report(report)
        if json_out is not None:
            write_json(json_out, report)
            self.stdout.write(f"Wrote {json_out}")

    def write_report(self, report: dict) -> None:
        shipped, fitted = report["shipped_cutoffs"], report["fitted_on_tune"]
        self.stdout.write(f"cut-offs shipped {shipped}; fitted on the tuning half {fitted}")
        if shipped != fitted:
            self.stderr.write("warning: the shipped cut-offs differ from the fitted ones")
        columns = ("faithful", "accepted", "corrupt", "reject R", "reject P")
        self.stdout.write(f"{'split':9} {'set':9} " + " ".join(f"{c:>8}" for c in columns))
        for split, data in report["splits"].items():
            rows = [("all", data["all"]), *data["by_dataset"].items()]
            for name, row in rows:
                self.stdout.write(
                    f"{split:9} {name:9} {row['faithful']:8d} {row['faithful_accepted']:8.3f} "
                    f"{row['corrupted']:8d} {row['rejection_recall']:8.3f} "
                    f"{row['rejection_precision']:8.3f}"
                )
        held_out = report["splits"]["held_out"]["all"]["by_kind"]
        self.stdout.write(
            "held-out by kind (faithful: accepted; corrupted: rejected): "
            + ", ".join(f"{kind} {v['rate']:.3f} ({v['of']})" for kind, v in held_out.items())
        )
        latency = report["answer_latency_ms"]
        self.stdout.write(
            f"checking time per answer: p50 {latency['p50']} ms, p95 {latency['p95']} ms"
        )
