from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.assistant.clause_cues import CUES_PATH
from apps.evaluation import clause_cue_learning
from apps.evaluation.questions import EvaluationError


class Command(BaseCommand):
    help = (
        "Learn the clause vocabulary and answer threshold of each known contract question "
        "(questions with a category and a scope document) from the gold clause spans of the "
        "tuning half of a question file, and write the clause cue file the extractive backend "
        "reads. Needs no database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--questions", required=True, type=Path, metavar="FILE.jsonl")
        parser.add_argument("--out", type=Path, default=CUES_PATH, metavar="FILE.json")

    def handle(self, *args, questions, out, **options):
        if not questions.is_file() or not questions.with_name("documents.jsonl").is_file():
            raise CommandError(f"no question file with a documents.jsonl beside it: {questions}")
        try:
            cues = clause_cue_learning.learn(questions)
        except EvaluationError as exc:
            raise CommandError(str(exc)) from None
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(cues, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        for entry in cues["questions"]:
            tuning = entry["tuning"]
            threshold = "never" if entry["threshold"] is None else f"{entry['threshold']:.2f}"
            self.stdout.write(
                f"{entry['category']:36} {len(entry['weights']):3} terms, answers from "
                f"{threshold:>6}: {tuning['answered_on_gold']}/{tuning['with_clause']} clauses "
                f"found, {tuning['answered'] - tuning['answered_on_gold']} wrong answers "
                f"of {tuning['questions']}"
            )
        self.stdout.write(f"Wrote {out}")
