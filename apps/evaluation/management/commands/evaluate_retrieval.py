from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.evaluation import retrieval, retrieval_report
from apps.evaluation.json_output import write_json
from apps.evaluation.questions import EvaluationError


class Command(BaseCommand):
    help = (
        "Score retrieval on a question file in the shared format (id, question, gold_spans, "
        "...). Without --corpus, the documents.jsonl beside it is loaded into a corpus named "
        "after its folder, unless that corpus already holds the same documents. Prints "
        "recall@k, MAP@k, nDCG@k, MRR and query latency per configuration. An internal "
        "operation: it reads the corpus directly, with no user or access grant."
    )

    def add_arguments(self, parser):
        parser.add_argument("--questions", required=True, type=Path, metavar="FILE.jsonl")
        parser.add_argument("--corpus", metavar="SLUG", help="evaluate this existing corpus")
        parser.add_argument("--k", type=int, default=10, help="cutoff for every metric")
        parser.add_argument(
            "--legs",
            default=",".join(retrieval.CONFIGURATIONS),
            help=f"comma-separated configurations among {', '.join(retrieval.CONFIGURATIONS)}",
        )
        parser.add_argument(
            "--also-search",
            nargs="+",
            default=[],
            metavar="SLUG",
            help="existing corpora searched beside the evaluated one, as by someone who reads "
            "them all; gold stays in the evaluated corpus",
        )
        parser.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
        parser.add_argument(
            "--json", type=Path, dest="json_out", metavar="OUT", help="write all numbers here"
        )

    def handle(self, *args, questions, corpus, k, legs, also_search, limit, json_out, **options):
        if json_out is not None and not json_out.parent.is_dir():
            raise CommandError(f"cannot write {json_out}: no folder {json_out.parent}")
        try:
            report = retrieval.evaluation_run(
                questions_path=questions,
                corpus_slug=corpus,
                k=k,
                configurations=[name.strip() for name in legs.split(",") if name.strip()],
                limit=limit,
                also_search=also_search,
                stderr=self.stderr,
            )
        except EvaluationError as exc:
            raise CommandError(str(exc)) from None
        self.write_report(report)
        if json_out is not None:
            write_json(json_out, retrieval_report.report_json(report))
            self.stdout.write(f"Wrote {json_out}")

    def write_report(self, report: retrieval.Report) -> None:
        skipped = len(report.skipped_without_gold)
        self.stdout.write(
            f"{report.questions_file}: {report.questions} question(s), "
            f"{report.questions - skipped} scored, {skipped} without gold skipped; "
            f"corpus {report.corpus} ({report.corpus_source}); k={report.k}"
        )
        if report.also_searched:
            self.stdout.write(f"also searched: {', '.join(report.also_searched)}")
        if report.missing_gold_documents:
            self.stderr.write(
                f"warning: {len(report.missing_gold_documents)} gold document(s) are not in "
                f"the corpus, e.g. {', '.join(report.missing_gold_documents[:3])}"
            )
        for name, fusion in report.fusions.items():
            self.stdout.write(f"{name}: {fusion}")
        self.stdout.write(retrieval_report.format_table(report))
