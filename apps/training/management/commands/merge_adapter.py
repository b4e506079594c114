from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.adapters.files import AdapterFilesChanged, files_sha256, folder_files, folder_sha256
from apps.adapters.models import AdapterVersion
from apps.adapters.selectors import choice_of
from apps.training.trainer import TrainingError, base_model_dir, environment_offline

MANIFEST = "merge_manifest.json"


class Command(BaseCommand):
    help = (
        "Merge an adapter version into its base and write the merged model, for a deployment "
        "that serves one adapter only (no per-request LoRA cost). The adapter's files are "
        "checked against the registry first."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("version", type=int)
        parser.add_argument("--out", required=True, type=Path, metavar="DIR")
        parser.add_argument(
            "--base-model", default="", help="the base's directory (default: the packaged one)"
        )

    def handle(self, *args, name, version, out, base_model, **options):
        adapter = AdapterVersion.objects.filter(name=name, version=version).first()
        if adapter is None:
            raise CommandError(f"no adapter {name} v{version} in the registry")
        if out.exists() and any(out.iterdir()):
            raise CommandError(f"{out} is not empty; choose another --out")
        choice = choice_of(adapter, "merged")
        try:
            choice.verify()
            base = base_model_dir(base_model)
        except (AdapterFilesChanged, TrainingError) as exc:
            raise CommandError(str(exc)) from None
        environment_offline()
        merge(base, Path(adapter.path), out)
        files = files_sha256(out, folder_files(out))
        manifest = {
            "merged_from": {"name": name, "version": version, "sha256": adapter.sha256},
            "base_model": adapter.base_model,
            "base_model_sha256": adapter.base_model_sha256,
            "files": files,
            "files_sha256": folder_sha256(files),
        }
        (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        self.stdout.write(f"Wrote {adapter} merged into {adapter.base_model} to {out}")


def merge(base: Path, adapter: Path, out: Path) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    merged.save_pretrained(out)
    AutoTokenizer.from_pretrained(base).save_pretrained(out)
