"""The whole path at tiny scale, each step its command: build the dataset, train (NF4 QLoRA on
CPU, a tiny random Gemma 3), register, evaluate by the gate on a handful of held-out questions,
approve by a second user, activate, answer with it, serve it; a tampered file is refused."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.adapters import services
from apps.adapters.models import AdapterStatus, AdapterVersion
from apps.assistant.generators.local import LocalGenerator
from apps.assistant.models import AnswerStatus
from apps.assistant.services import answer_question
from apps.training.gate import gate_verdict
from tests.adapters.conftest import PASSING


@pytest.fixture
def local(settings, tiny_base):
    settings.GENERATOR_BACKEND = "local"
    settings.LOCAL_MODEL = str(tiny_base)
    return LocalGenerator()


@pytest.mark.django_db
def test_from_domain_data_to_an_active_adapter(
    rules_questions,
    tiny_base,
    local,
    model_admins,
    tmp_path,
    django_user_model,
):
    dora, _ = model_admins
    questions, unanswerable = rules_questions
    dataset, adapter = tmp_path / "dataset", tmp_path / "adapter"
    call_command(
        "build_sft_dataset",
        "--questions",
        str(questions),
        str(unanswerable),
        "--out",
        str(dataset),
        "--sources",
        "2",
    )
    call_command(
        "train_adapter",
        "--dataset",
        str(dataset),
        "--out",
        str(adapter),
        "--base-model",
        str(tiny_base),
        "--device",
        "cpu",
        "--max-seq-len",
        "4096",
        "--max-steps",
        "2",
        "--lora-r",
        "4",
        "--logging-steps",
        "1",
    )
    call_command(
        "register_adapter",
        str(adapter),
        "--name",
        "regulatory-answer",
        "--domains",
        "regulatory",
        "legal",
        "--user",
        "dora",
    )
    version = AdapterVersion.objects.get(name="regulatory-answer")
    report_path = tmp_path / "gate.json"
    call_command(
        "evaluate_adapter",
        "regulatory-answer",
        "1",
        "--user",
        "dora",
        "--questions",
        str(questions),
        str(unanswerable),
        "--max-new-tokens",
        "40",
        "--json",
        str(report_path),
    )
    report = json.loads(report_path.read_text())
    version.refresh_from_db()
    assert version.evaluation == report and set(report["arms"]) == {"base", "candidate"}
    held_out = {"rq1", "rq3", "rq4"}
    assert report["arms"]["candidate"]["answerable"] == len(held_out)
    assert report["arms"]["candidate"]["unsupported_shown"] == 0
    assert report["settings"]["answer_sources"] == 2
    if not report["gate"]["passed"]:  # a random model answers no better than its base
        with pytest.raises(CommandError, match="did not pass"):
            call_command("approve_adapter", "regulatory-answer", "1", "--user", "eve")
        services.adapter_evaluation_record(version=version, user=dora, report=PASSING, passed=True)
    with pytest.raises(CommandError, match="another must approve"):
        call_command("approve_adapter", "regulatory-answer", "1", "--user", "dora")
    call_command("approve_adapter", "regulatory-answer", "1", "--user", "eve")
    call_command("approve_adapter", "regulatory-answer", "1", "--user", "eve", "--activate")
    version.refresh_from_db()
    assert version.status == AdapterStatus.ACTIVE

    from apps.corpora.models import Corpus

    corpus = Corpus.objects.get(slug="minireg")
    asker = django_user_model.objects.create_user("reader")
    from apps.accounts.services import corpus_access_grant

    corpus_access_grant(corpus=corpus, user=asker)
    answer = answer_question(
        user=asker, question="Who must approve the Prospectus?", generator=local
    )
    assert answer.status != AnswerStatus.FAILED, answer.error
    assert (answer.adapter, answer.adapter_sha256) == ("regulatory-answer", version.sha256)

    call_command("serving_config", "--server", "tgi", "--out", str(tmp_path / "deploy"))
    env = (tmp_path / "deploy" / "tgi.env").read_text()
    assert f"LORA_ADAPTERS=regulatory-answer-v1={'/adapters/regulatory-answer/v1'}" in env

    (adapter / "adapter_model.safetensors").write_bytes(b"tampered")
    refused = answer_question(
        user=asker, question="Who must approve it?", generator=LocalGenerator()
    )
    assert refused.status == AnswerStatus.FAILED and "refused" in refused.error


def test_the_gate_wants_more_gold_evidence_and_no_lost_abstention():
    reference = {"answered_with_gold": 0.0, "abstention_unanswerable": 0.9}
    assert gate_verdict(
        {"answered_with_gold": 0.3, "abstention_unanswerable": 0.88}, reference, "base"
    )["passed"]
    failed = gate_verdict(
        {"answered_with_gold": 0.3, "abstention_unanswerable": 0.85}, reference, "base"
    )
    assert not failed["passed"] and "fell by 0.050" in failed["reasons"][0]
    same = gate_verdict(
        {"answered_with_gold": 0.0, "abstention_unanswerable": 1.0}, reference, "base"
    )
    assert not same["passed"] and "is not above the base's" in same["reasons"][0]


@pytest.mark.django_db
def test_a_merged_adapter_answers_as_the_adapter_does(tiny_base, tmp_path, model_admins):
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    from tests.adapters.conftest import manifest_for

    dora, _ = model_admins
    folder = tmp_path / "adapter"
    lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_base), lora).save_pretrained(folder)
    manifest_for(folder, str(tiny_base))
    services.adapter_register(folder=folder, name="legal-answer", user=dora)
    out = tmp_path / "merged"
    call_command("merge_adapter", "legal-answer", "1", "--out", str(out),
                 "--base-model", str(tiny_base))  # fmt: skip
    ids = torch.tensor([[1, 5, 9, 12]])
    with torch.inference_mode():
        merged = AutoModelForCausalLM.from_pretrained(out)(input_ids=ids).logits
        adapted = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_base), folder)
        expected = adapted(input_ids=ids).logits
    assert torch.allclose(merged, expected, atol=1e-4)
    assert json.loads((out / "merge_manifest.json").read_text())["merged_from"]["version"] == 1
    (folder / "adapter_model.safetensors").write_bytes(b"tampered")
    with pytest.raises(CommandError, match="not those registered"):
        call_command("merge_adapter", "legal-answer", "1", "--out", str(tmp_path / "again"),
                     "--base-model", str(tiny_base))  # fmt: skip
