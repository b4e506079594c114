import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.shared_data import SHARED_DATA


@pytest.mark.django_db
def test_checker_evaluation_meets_its_targets_on_held_out_dev_questions(tmp_path):
    out = tmp_path / "checker.json"
    files = [SHARED_DATA / name / "questions.dev.jsonl" for name in ("obliqa", "medquad", "cuad")]
    call_command(
        "evaluate_checker", "--questions", *map(str, files), "--per-file", "40", "--json", out
    )
    report = json.loads(out.read_text())
    held_out = report["splits"]["held_out"]["all"]
    assert held_out["faithful"] > 50 and held_out["corrupted"] > 50
    assert held_out["rejection_recall"] >= 0.95
    assert held_out["faithful_accepted"] >= 0.90
    assert set(held_out["by_kind"]) >= {"verbatim", "number", "negation", "entity"}
    assert 0 < report["answer_latency_ms"]["p50"] <= report["answer_latency_ms"]["p95"]


def test_checker_evaluation_explains_a_missing_question_file(tmp_path):
    with pytest.raises(CommandError, match="no question file"):
        call_command("evaluate_checker", "--questions", str(tmp_path / "none.jsonl"))


def test_shared_data_is_where_the_command_looks_by_default():
    from apps.evaluation.management.commands.evaluate_checker import SHARED_DATA as default

    assert Path(default) == SHARED_DATA
