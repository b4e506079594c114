from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.training.config import TrainingConfig, config_fields
from apps.training.trainer import Progress, TrainingError, environment_offline, train


class Command(BaseCommand):
    help = (
        "Train a LoRA adapter for answering on a dataset from build_sft_dataset: QLoRA by "
        "default (4-bit NF4 base, paged 8-bit AdamW, loss on the answer only), on CPU or CUDA. "
        "Writes the adapter and a training manifest (base model and its sha256, dataset sha256, "
        "configuration, library versions, code revision, loss curve, peak memory, wall time)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, type=Path, metavar="DIR")
        parser.add_argument("--out", required=True, type=Path, metavar="DIR")
        parser.add_argument(
            "--resume", action="store_true", help="go on from the last checkpoint in --out"
        )
        for name, kind, default, help_text, choices in config_fields():
            flag = "--" + name.replace("_", "-")
            if kind is bool:
                parser.add_argument(flag, action="store_true", default=default, help=help_text)
                parser.add_argument(
                    "--no-" + name.replace("_", "-"), dest=name, action="store_false"
                )
            else:
                parser.add_argument(
                    flag, type=kind, default=default, choices=choices, help=help_text
                )

    def handle(self, *args, dataset, out, resume, **options):
        names = TrainingConfig.__dataclass_fields__
        config = TrainingConfig(**{name: options[name] for name in names})
        if config.max_steps < 1 or config.batch_size < 1 or config.grad_accum < 1:
            raise CommandError("--max-steps, --batch-size and --grad-accum must be at least 1")
        environment_offline()
        bar = tqdm(total=config.max_steps, unit="step", file=self.stderr, desc="training")
        try:
            manifest = train(
                config=config, dataset=dataset, out=out, resume=resume, on_progress=bar_update(bar)
            )
        except TrainingError as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
        memory = manifest["peak_memory"]["peak_rss"] / 2**20
        self.stdout.write(
            f"Wrote {manifest['kind']} to {out}: {manifest['steps']} steps in "
            f"{manifest['wall_time_s']} s ({manifest['seconds_per_step']} s/step, "
            f"{manifest['tokens_per_second']} tokens/s), final loss {manifest['final_loss']}, "
            f"peak RSS {memory:.0f} MiB, sha256 of its files but the manifest "
            f"{manifest['files_sha256'][:16]} (register_adapter hashes the manifest too)"
        )


def bar_update(bar: tqdm):
    def update(progress: Progress) -> None:
        bar.total = progress.total or bar.total
        bar.update(progress.step - bar.n)
        if progress.loss is not None:
            bar.set_postfix(loss=f"{progress.loss:.3f}", tok_s=f"{progress.tokens_per_second:.0f}")

    return update
