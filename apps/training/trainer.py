"""QLoRA training of an answer adapter with TRL's SFTTrainer (transformers + peft + bitsandbytes).

The base is loaded in 4-bit NF4 with double quantization (computing in bf16 where the device
supports it, else fp32), LoRA adapts the attention and MLP projections, activations are
recomputed (gradient checkpointing), the optimizer is a paged 8-bit AdamW, and the loss counts
the answer's tokens only. `--method lora` and `--method full` exist for comparison. The same
run works on CPU and CUDA. The prompt is tokenized exactly as the local generator tokenizes it
at answer time, and the answer right after it, so that training and serving see one text.

torch and the training libraries are imported inside the functions: nothing here may weigh on
importing the project.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from apps.adapters.files import TRAINING_MANIFEST
from apps.assistant import prompts
from apps.assistant.prompts import Prompt
from apps.training.config import TrainingConfig
from apps.training.manifest import peak_rss, write_training_manifest
from apps.training.sft_data import DatasetError, dataset_load

CHECKPOINTS = "checkpoints"
# Memory a run needs, as a multiple of the base model's weights in fp32 (a first estimate that
# stops a run that cannot fit before it loads anything; the manifest records what it took).
MEMORY_FACTOR = {"qlora": 0.6, "lora": 1.6, "full": 4.5}


class TrainingError(Exception):
    """A training run that cannot start or finish, with a message fit for the command line."""


@dataclass
class Progress:
    """What a running training reports: the step, its loss and the tokens per second."""

    step: int = 0
    total: int = 0
    loss: float | None = None
    tokens_per_second: float | None = None
    extra: dict = field(default_factory=dict)


def resolve_device(wanted: str) -> str:
    import torch

    if wanted == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if wanted == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda: no CUDA device is available here")
    return wanted


def base_model_dir(base_model: str) -> Path:
    """The base model's directory: the named one, or the packaged Gemma converted once."""
    if not base_model:
        from apps.assistant.generators.base import GeneratorError
        from apps.assistant.generators.local import packaged_model_dir

        try:
            return packaged_model_dir()
        except GeneratorError as exc:
            raise TrainingError(str(exc)) from None
    path = Path(base_model)
    if not (path / "config.json").is_file():
        raise TrainingError(f"no base model at {path} (a transformers model directory)")
    return path


def uses_chat_template(base_model: str, tokenizer) -> bool:
    """As the local generator decides: a configured model with a chat template is prompted with
    the chat messages; the packaged base model with the plain-text prompt."""
    return bool(base_model) and bool(tokenizer.chat_template)


def prompt_ids(example: dict, tokenizer, chat: bool) -> list[int]:
    prompt = Prompt(question="", sources=(), system=example["system"], user=example["user"])
    if chat:
        text = tokenizer.apply_chat_template(
            prompt.messages(), tokenize=False, add_generation_prompt=True
        )
        return tokenizer(text, add_special_tokens=False).input_ids
    return tokenizer(prompt.text()).input_ids


def tokenized(examples: list[dict], tokenizer, chat: bool, max_len: int) -> tuple[list, int]:
    """input_ids and labels (-100 on the prompt) per example, and how many were too long."""
    rows, too_long = [], 0
    for example in examples:
        prompt = prompt_ids(example, tokenizer, chat)
        answer = tokenizer(example["completion"], add_special_tokens=False).input_ids
        ids = prompt + answer + [tokenizer.eos_token_id]
        if len(ids) > max_len:
            too_long += 1
            continue
        rows.append({"input_ids": ids, "labels": [-100] * len(prompt) + ids[len(prompt) :]})
    return rows, too_long


def check_memory(config: TrainingConfig, base: Path, device: str) -> None:
    weights = sum(p.stat().st_size for p in base.glob("*.safetensors"))
    needed = weights * MEMORY_FACTOR[config.method]
    available = available_memory(device)
    if available is not None and needed > available:
        raise TrainingError(
            f"too little memory for --method {config.method}: about {needed / 2**30:.1f} GiB "
            f"needed, {available / 2**30:.1f} GiB available on {device}; try --method qlora, "
            f"a smaller --max-seq-len or --batch-size"
        )


def available_memory(device: str) -> int | None:
    if device == "cuda":
        import torch

        return torch.cuda.mem_get_info()[0]
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def load_model(config: TrainingConfig, base: Path, device: str):
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
    compute = torch.bfloat16 if bf16 else torch.float32
    kwargs: dict = {"dtype": torch.float32, "attn_implementation": "eager"}
    if config.method == "qlora":
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute,
            bnb_4bit_quant_storage=torch.uint8,
        )
        kwargs["device_map"] = {"": device if device == "cpu" else 0}
    model = AutoModelForCausalLM.from_pretrained(base, **kwargs)
    if config.method != "qlora":
        model.to(device)
    model.config.use_cache = False
    return model, bf16


def lora_config(config: TrainingConfig):
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.modules(),
        bias="none",
        task_type="CAUSAL_LM",
    )


def training_arguments(config: TrainingConfig, out: Path, device: str, bf16: bool):
    from trl import SFTConfig

    return SFTConfig(
        output_dir=str(out / CHECKPOINTS),
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=round(config.warmup_ratio * config.max_steps),
        optim=config.optim,
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        gradient_checkpointing=config.gradient_checkpointing,
        seed=config.seed,
        data_seed=config.seed,
        save_steps=config.save_steps,
        save_total_limit=2,
        logging_steps=config.logging_steps,
        report_to=[],
        use_cpu=device == "cpu",
        bf16=bf16,
        max_length=None,
        include_num_input_tokens_seen="all",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )


def progress_callback(on_progress: Callable[[Progress], None] | None, started: float):
    from transformers import TrainerCallback

    class Report(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if on_progress is None or not logs or "loss" not in logs:
                return
            elapsed = max(time.perf_counter() - started, 1e-9)
            tokens = state.num_input_tokens_seen or 0
            on_progress(
                Progress(state.global_step, state.max_steps, logs["loss"], tokens / elapsed)
            )

        def on_step_end(self, args, state, control, **kwargs):
            if on_progress is not None:
                on_progress(Progress(state.global_step, state.max_steps))

    return Report()


def train(
    *,
    config: TrainingConfig,
    dataset: Path,
    out: Path,
    resume: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
) -> dict:
    """Train an adapter (or, with --method full, a model) on `dataset` into `out`, with a
    training manifest; returns the manifest."""
    dataset_manifest, examples = load_dataset_checked(dataset)
    prepare_out(out, resume)
    device = resolve_device(config.device)
    base = base_model_dir(config.base_model)
    check_memory(config, base, device)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    chat = uses_chat_template(config.base_model, tokenizer)
    rows, too_long = tokenized(examples, tokenizer, chat, config.max_seq_len)
    if not rows:
        raise TrainingError(f"every example is longer than --max-seq-len {config.max_seq_len}")
    memory_before = peak_rss()
    started = time.perf_counter()
    trainer = build_trainer(config, base, device, tokenizer, rows, out, on_progress, started)
    with memory_errors_explained(config):
        trainer.train(resume_from_checkpoint=last_checkpoint(out) if resume else None)
    wall = time.perf_counter() - started
    save(trainer, tokenizer, out, config)
    facts = {
        "device": device,
        "chat_template": chat,
        "examples": len(rows),
        "too_long": too_long,
        "tokens": sum(len(r["input_ids"]) for r in rows),
        "memory_before": memory_before,
        "wall": wall,
    }
    return write_training_manifest(out, config, base, dataset_manifest, trainer, facts)


def load_dataset_checked(dataset: Path) -> tuple[dict, list[dict]]:
    try:
        manifest, examples = dataset_load(dataset)
    except DatasetError as exc:
        raise TrainingError(str(exc)) from None
    current = prompts.template_version()
    if manifest.get("prompt_template_version") != current:
        raise TrainingError(
            f"the dataset at {dataset} was built for prompt version "
            f"{manifest.get('prompt_template_version')}, and the prompt is now {current}: "
            f"build it again with manage.py build_sft_dataset"
        )
    if not examples:
        raise TrainingError(f"the dataset at {dataset} holds no examples")
    return manifest, examples


def prepare_out(out: Path, resume: bool) -> None:
    if (out / TRAINING_MANIFEST).exists():
        raise TrainingError(f"{out} holds a finished training run; choose another --out")
    if out.exists() and any(out.iterdir()) and not resume and not last_checkpoint(out):
        raise TrainingError(f"{out} is not empty; choose another --out")
    if last_checkpoint(out) and not resume:
        raise TrainingError(f"{out} holds checkpoints of an interrupted run: pass --resume")
    out.mkdir(parents=True, exist_ok=True)


def last_checkpoint(out: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    folder = out / CHECKPOINTS
    return get_last_checkpoint(str(folder)) if folder.is_dir() else None


def answer_only_trainer():
    """SFTTrainer whose loss computes the output layer only where an answer token is scored.
    Gemma's vocabulary is 262,144 tokens: the output layer over the whole prompt cost more than
    the rest of the model, for logits the loss never reads."""
    import torch
    from trl import SFTTrainer

    class AnswerOnlyTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs["labels"]
            scored = labels[:, 1:] != -100
            first = int(scored.float().argmax(dim=1).min())
            outputs = model(
                input_ids=inputs["input_ids"],
                attention_mask=inputs.get("attention_mask"),
                logits_to_keep=labels.shape[1] - first,
            )
            logits = outputs.logits[:, :-1].float()
            targets = labels[:, first + 1 :]
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]),
                targets.reshape(-1),
                ignore_index=-100,
                reduction="sum",
            )
            count = (
                num_items_in_batch if num_items_in_batch is not None else (targets != -100).sum()
            )
            loss = loss / count
            return (loss, outputs) if return_outputs else loss

    return AnswerOnlyTrainer


def time_limit(max_minutes: float, started: float):
    from transformers import TrainerCallback

    class StopAtTimeLimit(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if max_minutes and time.perf_counter() - started > max_minutes * 60:
                control.should_training_stop = True
                control.should_save = True

    return StopAtTimeLimit()


def build_trainer(config, base, device, tokenizer, rows, out, on_progress, started):
    import torch
    from datasets import Dataset

    torch.manual_seed(config.seed)
    if device == "cpu" and config.cpu_threads:
        torch.set_num_threads(config.cpu_threads)
    model, bf16 = load_model(config, base, device)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    trainer = answer_only_trainer()(
        model=model,
        args=training_arguments(config, out, device, bf16),
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=None if config.method == "full" else lora_config(config),
        callbacks=[
            progress_callback(on_progress, started),
            time_limit(config.max_minutes, started),
        ],
    )
    if not bf16:
        # TRL keeps a quantized model's LoRA weights in bf16 (the QLoRA paper's choice on GPUs);
        # without bf16 arithmetic they stay fp32, whose small updates bf16 would round away.
        for parameter in trainer.model.parameters():
            if parameter.requires_grad:
                parameter.data = parameter.data.float()
    return trainer


class memory_errors_explained:
    def __init__(self, config: TrainingConfig) -> None:
        self.config = config

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is None:
            return False
        if isinstance(error, MemoryError) or "out of memory" in str(error).lower():
            raise TrainingError(
                f"out of memory while training (--method {self.config.method}, --max-seq-len "
                f"{self.config.max_seq_len}, --batch-size {self.config.batch_size}): use "
                f"--method qlora, shorter sequences or a smaller batch"
            ) from error
        return False


def save(trainer, tokenizer, out: Path, config: TrainingConfig) -> None:
    trainer.save_model(str(out))
    if config.method == "full":
        tokenizer.save_pretrained(str(out))
    shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)


def environment_offline() -> None:
    """Nothing is fetched while training: models and data come from local paths."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
