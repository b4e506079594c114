"""serving_config: TGI and vLLM launch configuration for the approved and active versions."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.adapters import services
from tests.adapters.conftest import PASSING, adapter_folder

COMPOSE_SCHEMA = Path(__file__).resolve().parents[1] / "deploy" / "compose-spec.json"


@pytest.fixture
def servable(db, tmp_path, model_admins):
    dora, eve = model_admins
    versions = []
    for rank in (8, 16):
        folder = adapter_folder(tmp_path / f"v{rank}", rank=rank, weights=bytes([rank]))
        version = services.adapter_register(folder=folder, name="regulatory-answer", user=dora)
        services.adapter_evaluation_record(version=version, user=dora, report=PASSING, passed=True)
        versions.append(services.adapter_approve(version=version, user=eve))
    services.adapter_activate(version=versions[1], user=eve)
    candidate = adapter_folder(tmp_path / "candidate", weights=b"c")
    services.adapter_register(folder=candidate, name="medical-answer", user=dora)
    return versions


def test_tgi_gets_every_servable_version_by_its_key(servable, tmp_path):
    out = tmp_path / "deploy"
    call_command("serving_config", "--server", "tgi", "--out", str(out))
    env = dict(line.split("=", 1) for line in (out / "tgi.env").read_text().splitlines())
    assert env["MODEL_ID"] == "tiny"
    assert env["LORA_ADAPTERS"] == (
        "regulatory-answer-v1=/adapters/regulatory-answer/v1,"
        "regulatory-answer-v2=/adapters/regulatory-answer/v2"
    )  # the unevaluated medical-answer candidate is not served
    compose = json.loads((out / "compose.tgi.json").read_text())
    volumes = compose["services"]["tgi"]["volumes"]
    assert [v["source"] for v in volumes] == [v.path for v in servable]
    assert all(v["read_only"] and v["type"] == "bind" for v in volumes)
    if COMPOSE_SCHEMA.exists():
        jsonschema.validate(compose, json.loads(COMPOSE_SCHEMA.read_text()))
    k8s = json.loads((out / "k8s.tgi-adapters.json").read_text())
    assert all(mount["readOnly"] for mount in k8s["volumeMounts"])
    assert {v["name"] for v in k8s["volumes"]} == {m["name"] for m in k8s["volumeMounts"]}


def test_vllm_gets_lora_modules_and_its_limits(servable, tmp_path):
    out = tmp_path / "deploy"
    call_command("serving_config", "--server", "vllm", "--out", str(out))
    arguments = (out / "vllm.args").read_text().split()
    assert arguments[:3] == ["--model", "tiny", "--enable-lora"]
    modules = arguments[arguments.index("--lora-modules") + 1 : arguments.index("--max-loras")]
    assert modules == [
        "regulatory-answer-v1=/adapters/regulatory-answer/v1",
        "regulatory-answer-v2=/adapters/regulatory-answer/v2",
    ]
    assert arguments[-4:] == ["--max-loras", "2", "--max-lora-rank", "16"]


def test_nothing_to_serve_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="no approved or active adapter"):
        call_command("serving_config", "--server", "tgi", "--out", str(tmp_path))
