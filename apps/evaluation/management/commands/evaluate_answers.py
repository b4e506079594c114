from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.assistant.generators import BACKENDS
from apps.assistant.generators.base import GeneratorError
from apps.evaluation import answers
from apps.evaluation.json_output import write_json
from apps.evaluation.questions import EvaluationError

ROWS = (
    ("answer rate", "answer_rate"),
    ("abstention rate", "abstention_rate"),
    ("sources disagree (conflict) rate", "conflict_rate"),
    ("evidence hit rate (answered)", "evidence_hit_rate"),
    ("statement precision", "statement_precision"),
    ("statements per answer", "statements_per_answer"),
    ("answerable: answered with gold evidence", ("answerable", "answered_with_gold_evidence")),
    ("unanswerable: abstained", ("unanswerable", "abstained")),
    ("verdicts stated", ("verdicts", "stated")),
    ("verdict accuracy", ("verdicts", "accuracy")),
    ("ROUGE-L vs long answer", "rouge_l"),
)


class Command(BaseCommand):
    help = (
        "Answer every question of a file in the shared format through the full answer path "
        "(retrieval, generator, citation checker) and score the answers against the gold. "
        "Without --corpus, the documents.jsonl beside the file is loaded into a corpus named "
        "after its folder, as evaluate_retrieval does. Nothing the run writes is kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--questions", required=True, type=Path, metavar="FILE.jsonl")
        parser.add_argument("--backend", choices=sorted(BACKENDS), help="default: the setting")
        parser.add_argument("--corpus", metavar="SLUG", help="evaluate this existing corpus")
        parser.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
        parser.add_argument(
            "--json",
            type=Path,
            dest="json_out",
            metavar="OUT",
            help="write the numbers and, under 'questions', every question's case: its status, "
            "abstention reason and the statements shown and dropped, with citations and reasons",
        )

    def handle(self, *args, questions, backend, corpus, limit, json_out, **options):
        if limit is not None and limit < 1:
            raise CommandError(f"--limit must be at least 1, got {limit}")
        if json_out is not None and not json_out.parent.is_dir():
            raise CommandError(f"cannot write {json_out}: no folder {json_out.parent}")
        try:
            report = answers.evaluation_run(
                questions_path=questions,
                backend=backend,
                corpus_slug=corpus,
                limit=limit,
                stderr=self.stderr,
            )
        except (EvaluationError, GeneratorError) as exc:
            raise CommandError(str(exc)) from None
        self.write_report(report)
        if json_out is not None:
            write_json(json_out, report)
            self.stdout.write(f"Wrote {json_out}")

    def write_report(self, report: dict) -> None:
        self.stdout.write(
            f"{report['questions_file']}: corpus {report['corpus']}, backend {report['backend']} "
            f"({report['model']}), {report['all']['questions']} question(s), "
            f"{report['all']['failed']} failed"
        )
        splits = ("all", "tune", "held_out")
        self.stdout.write(f"{'':42}" + "".join(f"{name:>10}" for name in splits))
        for label, key in ROWS:
            values = [lookup(report[name], key) for name in splits]
            if all(value is None for value in values):
                continue
            self.stdout.write(f"{label:42}" + "".join(cell(value) for value in values))
        for stage, numbers in report["all"]["latency_ms"].items():
            self.stdout.write(
                f"latency {stage:12} p50 {numbers['p50']:8.1f} ms   p95 {numbers['p95']:8.1f} ms"
            )


def lookup(summary: dict, key):
    if isinstance(key, tuple):
        outer, inner = key
        return summary[outer][inner] if summary[outer].get("questions", 1) else None
    return summary[key]


def cell(value) -> str:
    if value is None:
        return f"{'–':>10}"
    return f"{value:10d}" if isinstance(value, int) else f"{value:10.3f}"
