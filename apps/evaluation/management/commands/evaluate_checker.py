from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.evaluation import checker
from apps.evaluation.checker_examples import (
    ExamplesError,
    labelled_examples,
    read_examples,
    write_examples,
)
from apps.evaluation.json_output import write_json
from apps.evaluation.questions import EvaluationError

DEFAULT_SETS = ("obliqa", "cuad", "medquad", "scotus", "pubmedqa")


class Command(BaseCommand):
    help = (
        "Measure the citation checker on labelled statements: acceptance of the supported "
        "ones and rejection of the unsupported ones, per kind and overall, with the reasons "
        "given. --examples FILE.jsonl judges any labelled file (one JSON object a line: id, "
        "statement, passage, label supported|unsupported, kind). Without it, a set is built "
        "from the gold passages of question files: sentences verbatim, reworded or "
        "attributed, and the same sentences with a number, negation, name, modal, time "
        "relation, quantity, unit or the roles of two parties changed, or another passage's "
        "sentence; the support cut-offs are fitted on half of the questions and both halves "
        "reported with the shipped cut-offs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--examples",
            type=Path,
            metavar="FILE.jsonl",
            help="a labelled file to judge instead of the built-in set",
        )
        parser.add_argument(
            "--questions",
            nargs="+",
            type=Path,
            metavar="FILE.jsonl",
            default=[
                settings.SHARED_DATA_DIR / name / "questions.dev.jsonl" for name in DEFAULT_SETS
            ],
            help="built-in set: question files in the shared format, documents.jsonl beside each",
        )
        parser.add_argument(
            "--per-file",
            type=int,
            default=300,
            metavar="N",
            help="built-in set: questions per file",
        )
        parser.add_argument(
            "--write-examples",
            type=Path,
            metavar="OUT.jsonl",
            help="write the built-in set in the --examples format",
        )
        parser.add_argument("--json", type=Path, dest="json_out", metavar="OUT")

    def handle(self, *args, examples, questions, per_file, write_examples, json_out, **options):
        for path in (write_examples, json_out):
            if path is not None and not path.parent.is_dir():
                raise CommandError(f"cannot write {path}: no folder {path.parent}")
        if examples is not None:
            if write_examples is not None:
                raise CommandError("--write-examples writes the built-in set; drop --examples")
            report = self.file_report(examples)
        else:
            report = self.built_report(questions, per_file, write_examples)
        self.write_report(report)
        if json_out is not None:
            write_json(json_out, report)
            self.stdout.write(f"Wrote {json_out}")

    def file_report(self, path: Path) -> dict:
        try:
            examples = read_examples(path)
        except ExamplesError as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(f"{len(examples)} labelled statements from {path}; checking…")
        return checker.report_for_file(examples, str(path), self.stderr)

    def built_report(self, questions: list[Path], per_file: int, out: Path | None) -> dict:
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
        if out is not None:
            self.stdout.write(f"Wrote {write_examples(out, examples)} labelled statements to {out}")
        self.stderr.write(f"{len(examples)} labelled statements built; checking…")
        source = f"built from {len(questions)} question file(s), {per_file} questions each"
        return checker.report_for_built(examples, source, self.stderr)

    def write_report(self, report: dict) -> None:
        self.stdout.write(f"{report['source']}: {report['example_count']} statements")
        self.stdout.write(f"cut-offs shipped {report['shipped_cutoffs']}")
        if "fitted_on_tune" in report:
            self.stdout.write(f"cut-offs fitted on the tuning half {report['fitted_on_tune']}")
            if report["fitted_on_tune"] != report["shipped_cutoffs"]:
                self.stderr.write("warning: the shipped cut-offs differ from the fitted ones")
            for split in ("held_out", "tune"):
                self.write_set(f"{split} half", report["splits"][split]["all"])
                self.write_datasets(report["splits"][split]["by_dataset"])
        self.write_set("all", report["all"])
        if report["thin_kinds"]:
            self.stdout.write(
                f"thin kinds, fewer than {checker.MIN_PER_KIND} statements each, too few to quote: "
                + ", ".join(f"{kind} {count}" for kind, count in report["thin_kinds"].items())
            )
        latency = report["answer_latency_ms"]
        self.stdout.write(
            f"checking time per answer: p50 {latency['p50']} ms, p95 {latency['p95']} ms"
        )

    def write_set(self, name: str, summary: dict) -> None:
        self.stdout.write(
            f"\n{name}: supported {summary['supported']}, accepted {cell(summary['accepted'])}; "
            f"unsupported {summary['unsupported']}, rejected {cell(summary['rejected'])}; "
            f"rejection precision {cell(summary['rejection_precision'])}"
        )
        self.stdout.write(
            f"  {'kind':14}{'measured':13}{'n':>6}{'correct':>9}{'rate':>8}  reasons given"
        )
        for kind, row in summary["by_kind"].items():
            reasons = ", ".join(f"{reason} {count}" for reason, count in row["reasons"].items())
            measure = "accepted" if row["label"] == "supported" else "rejected"
            self.stdout.write(
                f"  {kind:14}{measure:13}{row['examples']:6d}{row['correct']:9d}"
                f"{cell(row['rate']):>8}  {reasons}"
            )

    def write_datasets(self, by_dataset: dict) -> None:
        self.stdout.write("  by data set:")
        for name, summary in by_dataset.items():
            self.stdout.write(
                f"  {name:14}supported {summary['supported']:5d} accepted "
                f"{cell(summary['accepted'])}; unsupported {summary['unsupported']:5d} "
                f"rejected {cell(summary['rejected'])}"
            )


def cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
