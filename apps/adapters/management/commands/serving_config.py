from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.adapters.selectors import servable_versions
from apps.adapters.serving import SERVERS, serving_config_write


class Command(BaseCommand):
    help = (
        "Write the launch configuration for TGI (LORA_ADAPTERS) or vLLM (--enable-lora "
        "--lora-modules ...) serving the approved and active adapter versions, each under its "
        "key (name-vN), with Compose and Kubernetes snippets that mount the folders read-only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--server", required=True, choices=SERVERS)
        parser.add_argument("--out", type=Path, default=Path("deploy/adapters"), metavar="DIR")
        parser.add_argument(
            "--base-model", help="the model id the server loads (default: the adapters' base)"
        )

    def handle(self, *args, server, out, base_model, **options):
        versions = list(servable_versions())
        bases = {v.base_model for v in versions}
        if len(bases) > 1 and not base_model:
            raise CommandError(
                f"the servable adapters have different bases ({', '.join(sorted(bases))}): "
                f"one server serves one base; pass --base-model"
            )
        base = base_model or (bases.pop() if bases else "")
        if not base:
            raise CommandError("no approved or active adapter, and no --base-model")
        versions = [v for v in versions if v.base_model == base] if base_model else versions
        for path in serving_config_write(
            server=server, versions=versions, base_model=base, out=out
        ):
            self.stdout.write(f"Wrote {path}")
        for version in versions:
            self.stdout.write(f"  {version.key}: {version.path} ({version.get_status_display()})")
