"""The training manifest an adapter folder carries: what it was trained from (the base model
and its files' sha256, the dataset), how (the configuration, seed, library versions and code
revision), and what it took (loss curve, steps, tokens, wall time, peak memory), with the
sha256 of every file of the folder."""

from __future__ import annotations

import json
import resource
import subprocess
from pathlib import Path

from django.conf import settings

from apps.adapters.files import DATASET_MANIFEST, TRAINING_MANIFEST, files_sha256, folder_sha256

LIBRARIES = ("torch", "transformers", "peft", "trl", "bitsandbytes", "accelerate")


def base_model_id(base_model: str) -> str:
    from apps.assistant.generators.local import PACKAGED_MODEL

    return base_model or PACKAGED_MODEL


def base_model_hashes(path: Path) -> dict[str, str]:
    """sha256 of the base model's weights and tokenizer files."""
    names = [
        p.name
        for p in sorted(path.iterdir())
        if p.suffix in (".safetensors", ".bin") or p.name.startswith("tokenizer")
    ]
    return files_sha256(path, names)


def write_training_manifest(out, config, base, dataset_manifest, trainer, facts) -> dict:
    (out / DATASET_MANIFEST).write_text(json.dumps(dataset_manifest, indent=2) + "\n")
    history = trainer.state.log_history
    curve = [{"step": h["step"], "loss": round(h["loss"], 4)} for h in history if "loss" in h]
    tokens = trainer.state.num_input_tokens_seen or 0
    manifest = {
        "kind": "adapter" if config.method != "full" else "model",
        "base_model": base_model_id(config.base_model),
        "base_model_sha256": base_model_hashes(base),
        "dataset_sha256": dataset_manifest["dataset_sha256"],
        "prompt_template_version": dataset_manifest["prompt_template_version"],
        "answer_sources": dataset_manifest["config"]["sources"],
        "config": config.as_dict(),
        "seed": config.seed,
        "libraries": library_versions(),
        "code_revision": code_revision(),
        "device": facts["device"],
        "chat_template": facts["chat_template"],
        "examples": facts["examples"],
        "examples_too_long": facts["too_long"],
        "loss_curve": curve,
        "final_loss": curve[-1]["loss"] if curve else None,
        "steps": trainer.state.global_step,
        "tokens_seen": tokens,
        "tokens_per_second": round(tokens / facts["wall"], 1) if facts["wall"] else None,
        "wall_time_s": round(facts["wall"], 1),
        "seconds_per_step": round(facts["wall"] / max(trainer.state.global_step, 1), 3),
        "peak_memory": peak_memory(facts["device"], facts["memory_before"]),
        "trainable_parameters": sum(
            p.numel() for p in trainer.model.parameters() if p.requires_grad
        ),
    }
    names = sorted(p.name for p in out.iterdir() if p.is_file() and p.name != TRAINING_MANIFEST)
    manifest["files"] = files_sha256(out, names)
    manifest["files_sha256"] = folder_sha256(manifest["files"])
    (out / TRAINING_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def peak_memory(device: str, rss_before: int) -> dict:
    """Peak memory in bytes: the process's resident set, what training added to what loading
    the dataset and tokenizer took, and on CUDA the device's allocations."""
    memory = {"peak_rss": peak_rss(), "peak_rss_training": peak_rss() - rss_before}
    if device == "cuda":
        import torch

        memory["cuda_max_allocated"] = torch.cuda.max_memory_allocated()
    return memory


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def code_revision() -> str:
    """The checkout's commit, marked when the working tree differs from it."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=settings.BASE_DIR, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (sha or "unknown") + ("+modified" if dirty else "")
