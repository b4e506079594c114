from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.audit.selectors import checkpoint_as_dict, checkpoint_latest
from apps.audit.services import AuditError, checkpoint_create
from apps.audit.signing import SigningKeyError


class Command(BaseCommand):
    help = (
        "Sign the head of the audit trail (its sequence number and hash) with the Ed25519 key "
        "from AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE (on a laptop, one kept under var/), "
        "store the checkpoint and print it as JSON, to be anchored elsewhere. --export writes "
        "the latest checkpoint without signing a new one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, metavar="FILE.json", help="also write it here")
        parser.add_argument(
            "--export", action="store_true", help="export the latest checkpoint; sign nothing"
        )

    def handle(self, *args, out: Path | None, export: bool, **options):
        try:
            checkpoint = checkpoint_latest() if export else checkpoint_create()
        except (AuditError, SigningKeyError) as exc:
            raise CommandError(str(exc)) from None
        if checkpoint is None:
            raise CommandError("no checkpoint has been signed yet")
        text = json.dumps(checkpoint_as_dict(checkpoint), indent=2)
        if out:
            out.write_text(text + "\n")
        self.stdout.write(text)
