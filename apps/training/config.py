"""A training run's configuration: one dataclass, every field with its help text, turned into
the train_adapter command's options (peft's and nanoGPT's way)."""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields

METHODS = ("qlora", "lora", "full")
DEVICES = ("auto", "cpu", "cuda")
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def option(default, help: str, **kwargs):
    return field(default=default, metadata={"help": help, **kwargs})


@dataclass
class TrainingConfig:
    method: str = option(
        "qlora",
        "qlora: base in 4-bit NF4 with double quantization, LoRA on top; lora: the base "
        "unquantized; full: every weight trained (for comparison)",
        choices=METHODS,
    )
    device: str = option(
        "auto", "cuda when a GPU is there, else cpu; the same run on either", choices=DEVICES
    )
    cpu_threads: int = option(
        0,
        "torch threads on CPU (0: torch's default); on a CPU shared with other work one thread "
        "ran a step 6x faster than two fighting for it",
    )
    base_model: str = option(
        "", "a local transformers model directory; empty: the packaged Gemma-3-270M"
    )
    max_seq_len: int = option(
        1024, "examples with more tokens (prompt and answer) are left out, never cut"
    )
    lora_r: int = option(16, "LoRA rank")
    lora_alpha: int = option(32, "LoRA scaling numerator (scale = alpha / r)")
    lora_dropout: float = option(0.05, "dropout on the LoRA input")
    target_modules: str = option(
        ",".join(PROJECTIONS), "the attention and MLP projections LoRA adapts, comma-separated"
    )
    learning_rate: float = option(1e-4, "peak learning rate, after warm-up")
    lr_scheduler: str = option("cosine", "learning-rate schedule after warm-up (transformers)")
    warmup_ratio: float = option(0.06, "share of the steps spent warming up from zero")
    max_steps: int = option(300, "optimizer steps; the dataset is repeated as needed")
    max_minutes: float = option(
        0.0, "stop after this much wall time, saving the adapter (0: no limit); bounds a CPU run"
    )
    batch_size: int = option(1, "examples per forward pass")
    grad_accum: int = option(4, "forward passes per optimizer step")
    optim: str = option(
        "paged_adamw_8bit",
        "optimizer (transformers' names); paged falls back to unpaged 8-bit AdamW on CPU",
    )
    weight_decay: float = option(0.0, "AdamW weight decay")
    max_grad_norm: float = option(1.0, "gradient clipping: 8-bit AdamW diverged without it")
    gradient_checkpointing: bool = option(True, "recompute activations to save memory")
    seed: int = option(0, "seeds the LoRA initialisation and the order of examples")
    save_steps: int = option(50, "checkpoint every N steps, for resuming")
    logging_steps: int = option(5, "loss is logged every N steps into the manifest's curve")

    def as_dict(self) -> dict:
        return asdict(self)

    def modules(self) -> list[str]:
        return [name.strip() for name in self.target_modules.split(",") if name.strip()]


def config_fields():
    """(name, type, default, help, choices) of every field, for command-line options."""
    for item in fields(TrainingConfig):
        default = item.default if item.default is not MISSING else None
        yield item.name, type(default), default, item.metadata["help"], item.metadata.get("choices")
