from __future__ import annotations

import json

import pytest

from apps.adapters.files import files_sha256, folder_files, folder_sha256
from apps.assistant.prompts import template_version


def adapter_folder(
    folder,
    *,
    base: str = "tiny",
    rank: int = 4,
    weights: bytes = b"weights",
    prompt: str | None = None,
):
    """A folder shaped as train_adapter writes one: adapter files and the training manifest
    with their hashes (the weights are not a model: the registry never loads them), trained for
    `prompt` (a template version; by default today's)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adapter_config.json").write_text(json.dumps({"r": rank, "peft_type": "LORA"}))
    (folder / "adapter_model.safetensors").write_bytes(weights)
    (folder / "dataset_manifest.json").write_text(json.dumps({"dataset_sha256": "d" * 64}))
    names = [name for name in folder_files(folder) if name != "training_manifest.json"]
    files = files_sha256(folder, names)
    manifest = {
        "kind": "adapter",
        "base_model": base,
        "base_model_sha256": {"model.safetensors": "b" * 64},
        "answer_sources": 2,
        "prompt_template_version": prompt or template_version(),
        "config": {"lora_r": rank},
        "final_loss": 0.5,
        "loss_curve": [{"step": 5, "loss": 2.0}, {"step": 10, "loss": 1.0}],
        "files": files,
        "files_sha256": folder_sha256(files),
    }
    (folder / "training_manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture
def model_admins(django_user_model):
    """Two model admins: dora registers and evaluates, eve approves and activates."""
    from apps.accounts.models import Role
    from apps.accounts.services import role_assign

    users = []
    for name in ("dora", "eve"):
        user = django_user_model.objects.create_user(name, password=f"{name}-password-1")
        role_assign(user=user, role=Role.MODEL_ADMIN)
        users.append(django_user_model.objects.get(pk=user.pk))
    return users


PASSING = {"gate": {"passed": True, "against": "base", "reasons": []}, "arms": {}}
FAILING = {"gate": {"passed": False, "against": "base", "reasons": ["no better"]}, "arms": {}}


def manifest_for(folder, base: str) -> None:
    """The training manifest train_adapter would write beside a real adapter's files."""
    files = files_sha256(folder, folder_files(folder))
    manifest = {
        "kind": "adapter",
        "base_model": base,
        "base_model_sha256": {},
        "prompt_template_version": template_version(),
        "files": files,
    }
    (folder / "training_manifest.json").write_text(json.dumps(manifest))
