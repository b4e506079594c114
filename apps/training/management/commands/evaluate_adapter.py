from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from apps.adapters.models import AdapterVersion
from apps.adapters.services import AdapterError
from apps.assistant.generators.base import GeneratorError
from apps.evaluation.json_output import write_json
from apps.evaluation.questions import EvaluationError
from apps.training.gate import GateError, adapter_evaluate, default_question_files

ROWS = (
    ("answerable: answered with gold evidence", "answered_with_gold"),
    ("unanswerable: abstained", "abstention_unanswerable"),
    ("answer rate", "answer_rate"),
    ("statements written", "statements_written"),
    ("dropped statement rate", "dropped_statement_rate"),
    ("unsupported statements shown", "unsupported_shown"),
    ("citation accuracy", "citation_accuracy"),
    ("time to first statement p50 (s)", "first_statement_s_p50"),
    ("tokens per second", "tokens_per_second"),
)


class Command(BaseCommand):
    help = (
        "The evaluation gate: answer the held-out halves of the development questions with the "
        "local backend and the adapter version, the base model and the active version, in one "
        "run, and store the result on the version (evaluated when it passes)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("version", type=int)
        parser.add_argument("--user", required=True, help="who evaluates (a model admin)")
        parser.add_argument(
            "--questions", nargs="+", type=Path, metavar="FILE", help="default: the shared sets"
        )
        parser.add_argument("--limit", type=int, metavar="N", help="held-out questions per file")
        parser.add_argument("--max-new-tokens", type=int, metavar="N")
        parser.add_argument("--json", type=Path, dest="json_out", metavar="OUT")

    def handle(self, *args, name, version, user, questions, limit, max_new_tokens, json_out, **_):
        adapter = AdapterVersion.objects.filter(name=name, version=version).first()
        if adapter is None:
            raise CommandError(f"no adapter {name} v{version} in the registry")
        evaluator = get_user_model().objects.filter(username=user).first()
        if evaluator is None:
            raise CommandError(f"no user {user!r}")
        files = questions or default_question_files(settings.SHARED_DATA_DIR)
        try:
            report = adapter_evaluate(
                version=adapter,
                user=evaluator,
                questions=files,
                limit=limit,
                max_new_tokens=max_new_tokens,
                stderr=self.stderr,
                count_tokens=token_counter(),
            )
        except (GateError, EvaluationError, GeneratorError, AdapterError, PermissionDenied) as exc:
            raise CommandError(str(exc)) from None
        self.write_report(report)
        if json_out is not None:
            write_json(json_out, report)
            self.stdout.write(f"Wrote {json_out}")

    def write_report(self, report: dict) -> None:
        arms = list(report["arms"])
        self.stdout.write(f"{'':42}" + "".join(f"{arm:>12}" for arm in arms))
        for label, key in ROWS:
            values = [report["arms"][arm][key] for arm in arms]
            self.stdout.write(f"{label:42}" + "".join(cell(v) for v in values))
        for arm, files in report["per_file"].items():
            for row in files:
                self.stdout.write(
                    f"{arm:10} {Path(row['questions_file']).parent.name}/"
                    f"{Path(row['questions_file']).name}: {row['questions']} questions, "
                    f"gold evidence {row['answered_with_gold']}, "
                    f"abstained (unanswerable) {row['abstained_unanswerable']}"
                )
        gate = report["gate"]
        verdict = "PASSED" if gate["passed"] else "FAILED: " + "; ".join(gate["reasons"])
        self.stdout.write(f"Gate against the {gate['against']}: {verdict}")


def token_counter():
    """Tokens in the packaged model's tokenizer, for tokens per second."""
    from transformers import AutoTokenizer

    from apps.assistant.generators.local import packaged_model_dir

    model = settings.LOCAL_MODEL or packaged_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(model)
    return lambda text: len(tokenizer(text, add_special_tokens=False).input_ids)


def cell(value) -> str:
    if value is None:
        return f"{'–':>12}"
    return f"{value:12d}" if isinstance(value, int) else f"{value:12.3f}"
