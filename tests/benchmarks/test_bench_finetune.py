from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from bench import finetune
from tests.training.conftest import rules_questions, tiny_base  # noqa: F401 (fixtures)


@pytest.mark.django_db
def test_the_finetune_benchmark_runs_in_short_form(rules_questions, tiny_base, tmp_path):  # noqa: F811
    questions, _ = rules_questions
    dataset = tmp_path / "dataset"
    call_command("build_sft_dataset", "--questions", str(questions), "--out", str(dataset))
    out = tmp_path / "bench.json"
    text = finetune.main(
        [
            "--dataset", str(dataset), "--steps", "2", "--device", "cpu",
            "--base-model", str(tiny_base), "--max-seq-len", "4096", "--json", str(out),
        ]
    )  # fmt: skip
    assert "Fine-tuning benchmark: 2 steps per method, same batches, on cpu" in text
    results = json.loads(out.read_text())
    assert list(results) == ["qlora", "lora", "full"]
    assert results["qlora"]["trainable_parameters"] == results["lora"]["trainable_parameters"]
    assert results["full"]["trainable_parameters"] > results["lora"]["trainable_parameters"]
    assert all(row["peak_rss_mib"] > 0 and row["seconds_per_step"] > 0 for row in results.values())
