"""QLoRA training on a tiny random Gemma 3 built from a config: a few NF4 steps on CPU."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.adapters.files import TRAINING_MANIFEST, file_sha256
from apps.training.config import TrainingConfig
from apps.training.trainer import TrainingError, train

STEPS = 3


def tiny_config(tiny_base, **changes) -> TrainingConfig:
    values = {
        "base_model": str(tiny_base),
        "device": "cpu",
        "max_seq_len": 4096,
        "max_steps": STEPS,
        "lora_r": 4,
        "lora_alpha": 8,
        "learning_rate": 1e-2,
        "warmup_ratio": 0.0,
        "grad_accum": 1,
        "logging_steps": 1,
        "save_steps": 2,
    }
    return TrainingConfig(**values | changes)


def lora_weights(folder):
    from safetensors.torch import load_file

    return load_file(folder / "adapter_model.safetensors")


def test_a_few_nf4_qlora_steps_change_the_adapter_weights(tiny_base, dataset, tmp_path):
    out = tmp_path / "adapter"
    manifest = train(config=tiny_config(tiny_base), dataset=dataset, out=out)
    # LoRA's B matrices start at zero (the adapter starts as the identity): only training
    # moves them.
    trained = lora_weights(out)
    b_weights = [name for name in trained if "lora_B" in name]
    assert len(b_weights) == 2 * len(TrainingConfig().modules())  # two layers
    assert all(trained[name].abs().sum() > 0 for name in b_weights)
    assert manifest["steps"] == STEPS and manifest["config"]["method"] == "qlora"
    assert [point["step"] for point in manifest["loss_curve"]] == [1, 2, 3]
    assert manifest["peak_memory"]["peak_rss"] > 0 and manifest["wall_time_s"] > 0
    assert (
        manifest["dataset_sha256"]
        == json.loads((dataset / "manifest.json").read_text())["dataset_sha256"]
    )
    assert set(manifest["libraries"]) >= {"torch", "transformers", "peft", "trl", "bitsandbytes"}
    assert manifest["base_model_sha256"]["model.safetensors"] == file_sha256(
        tiny_base / "model.safetensors"
    )
    for name, sha in manifest["files"].items():
        assert file_sha256(out / name) == sha
    assert not (out / "checkpoints").exists()


def test_the_base_is_loaded_in_nf4_with_double_quantization(tiny_base):
    import bitsandbytes as bnb

    from apps.training.trainer import load_model

    model, bf16 = load_model(tiny_config(tiny_base), tiny_base, "cpu")
    layers = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert layers and not bf16
    state = layers[0].weight.quant_state
    assert state.quant_type == "nf4" and state.nested  # nested: double quantization


def test_an_interrupted_run_resumes_from_its_last_checkpoint(tiny_base, dataset, tmp_path):
    out = tmp_path / "adapter"
    with pytest.raises(TrainingError, match="finished"):
        train(config=tiny_config(tiny_base, max_steps=2), dataset=dataset, out=out)
        train(config=tiny_config(tiny_base), dataset=dataset, out=out)
    (out / TRAINING_MANIFEST).unlink()  # as if the run had stopped after its step-2 checkpoint
    checkpoint = out / "checkpoints" / "checkpoint-2"
    checkpoint.mkdir(parents=True)
    for item in out.iterdir():
        if item.is_file():
            item.rename(checkpoint / item.name)
    with pytest.raises(TrainingError, match="--resume"):
        train(config=tiny_config(tiny_base), dataset=dataset, out=out)


def test_resume_goes_on_from_the_checkpoint(tiny_base, dataset, tmp_path, monkeypatch):
    out = tmp_path / "adapter"
    stopped = tiny_config(tiny_base, max_steps=4, save_steps=2)
    calls = []
    from apps.training import trainer as module

    real = module.build_trainer

    def interrupt_after_two(*args, **kwargs):
        built = real(*args, **kwargs)
        if not calls:
            built.args.max_steps = 2
        calls.append(built)
        return built

    monkeypatch.setattr(module, "build_trainer", interrupt_after_two)
    monkeypatch.setattr(module, "save", lambda *a: None)
    monkeypatch.setattr(module, "write_training_manifest", lambda *a: {})
    train(config=stopped, dataset=dataset, out=out)
    assert (out / "checkpoints" / "checkpoint-2").is_dir()
    train(config=stopped, dataset=dataset, out=out, resume=True)
    assert calls[1].state.global_step == 4


def test_clear_errors_before_any_work(tiny_base, dataset, tmp_path):
    with pytest.raises(CommandError, match="no dataset"):
        call_command("train_adapter", "--dataset", str(tmp_path / "none"), "--out", str(tmp_path))
    with pytest.raises(TrainingError, match="no base model"):
        train(config=tiny_config(tmp_path / "missing"), dataset=dataset, out=tmp_path / "a")
    manifest = json.loads((dataset / "manifest.json").read_text())
    manifest["prompt_template_version"] = "sha256:older"
    (dataset / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(TrainingError, match="prompt version"):
        train(config=tiny_config(tiny_base), dataset=dataset, out=tmp_path / "b")


def test_too_little_memory_is_a_clear_error(tiny_base, dataset, tmp_path, monkeypatch):
    monkeypatch.setattr("apps.training.trainer.available_memory", lambda device: 1024)
    with pytest.raises(TrainingError, match="too little memory"):
        train(config=tiny_config(tiny_base), dataset=dataset, out=tmp_path / "a")


@pytest.mark.slow
def test_two_qlora_steps_on_the_packaged_gemma(dataset, tmp_path):
    """The real base, as the README's run trains it, in short form."""
    config = TrainingConfig(device="cpu", max_steps=2, grad_accum=1, logging_steps=1)
    manifest = train(config=config, dataset=dataset, out=tmp_path / "adapter")
    assert manifest["base_model"] == "gemma-3-270m" and manifest["steps"] == 2
    assert len(manifest["base_model_sha256"]) >= 2  # the weights and the tokenizer
    trained = lora_weights(tmp_path / "adapter")
    assert all(trained[n].abs().sum() > 0 for n in trained if "lora_B" in n)
