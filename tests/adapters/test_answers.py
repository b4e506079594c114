"""Answers use the registry: the active adapter for the searched corpora's domain, or the one
the request names; every answer records which version answered and why."""

from __future__ import annotations

import pytest

from apps.adapters import services
from apps.assistant.generators.local import LocalGenerator
from apps.assistant.models import Answer, AnswerStatus
from apps.assistant.services import answer_question
from tests.adapters.conftest import PASSING, manifest_for
from tests.retrieval.conftest import corpora  # noqa: F401 (a fixture)
from tests.training.conftest import tiny_base  # noqa: F401 (a fixture)

QUESTION = "Which beneficial owners must a relevant person identify?"


@pytest.fixture
def local(settings, tiny_base):  # noqa: F811
    settings.GENERATOR_BACKEND = "local"
    settings.LOCAL_MODEL = str(tiny_base)
    settings.GENERATOR_MAX_NEW_TOKENS = 40
    return LocalGenerator()


@pytest.fixture
def legal_adapter(tiny_base, tmp_path, model_admins):  # noqa: F811
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    dora, eve = model_admins
    folder = tmp_path / "legal-answer"
    model = AutoModelForCausalLM.from_pretrained(tiny_base)
    lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(model, lora).save_pretrained(folder)
    manifest_for(folder, str(tiny_base))
    version = services.adapter_register(
        folder=folder, name="legal-answer", user=dora, domains=["legal"]
    )
    services.adapter_evaluation_record(version=version, user=dora, report=PASSING, passed=True)
    services.adapter_approve(version=version, user=eve)
    return services.adapter_activate(version=version, user=eve)


@pytest.mark.usefixtures("corpora")
def test_the_active_adapter_for_the_domain_answers_and_is_recorded(
    alice,
    local,
    legal_adapter,
):
    answer = answer_question(user=alice, question=QUESTION, generator=local)
    assert answer.status != AnswerStatus.FAILED, answer.error
    assert (answer.adapter, answer.adapter_version) == ("legal-answer", 1)
    assert answer.adapter_sha256 == legal_adapter.sha256
    assert answer.adapter_reason == "the active adapter for legal"


@pytest.mark.usefixtures("corpora")
def test_without_an_active_adapter_the_base_model_answers_and_says_why(
    alice,
    local,
):
    answer = answer_question(user=alice, question=QUESTION, generator=local)
    assert (answer.adapter, answer.adapter_version, answer.adapter_sha256) == ("", None, "")
    assert answer.adapter_reason == "no active adapter for legal: the base model"


@pytest.mark.usefixtures("corpora")
def test_a_tampered_adapter_is_refused_and_never_served(
    alice,
    local,
    legal_adapter,
):
    weights = legal_adapter.path + "/adapter_model.safetensors"
    with open(weights, "r+b") as handle:
        handle.seek(-1, 2)
        handle.write(b"\0")
    answer = answer_question(user=alice, question=QUESTION, generator=local)
    assert answer.status == AnswerStatus.FAILED
    assert "refused" in answer.error and "adapter_model.safetensors" in answer.error
    assert answer.raw_output == "" and local.model().with_adapters is None


@pytest.mark.usefixtures("corpora")
@pytest.mark.parametrize("state", ["unknown", "retired", "candidate"])
def test_a_request_naming_an_adapter_that_is_not_active_is_a_400(
    alice,
    login,
    tmp_path,
    model_admins,
    legal_adapter,
    state,
):
    dora, eve = model_admins
    name = "tax-answer"
    if state == "retired":
        services.adapter_retire(version=legal_adapter, user=eve)
        name = "legal-answer"
    elif state == "candidate":
        folder = tmp_path / "candidate"
        folder.mkdir()
        (folder / "adapter_config.json").write_text("{}")
        manifest_for(folder, "tiny")
        services.adapter_register(folder=folder, name="medical-answer", user=dora)
        name = "medical-answer"
    response = login(alice).post(
        "/api/v1/answers", {"question": QUESTION, "adapter": name}, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert name in response.json()["detail"]
    assert not Answer.objects.exists()
