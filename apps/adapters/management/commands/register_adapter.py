from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from apps.adapters.files import AdapterFilesChanged
from apps.adapters.services import AdapterError, adapter_register


class Command(BaseCommand):
    help = (
        "Register an adapter folder written by train_adapter (here or on a GPU machine) as the "
        "next version of NAME, a candidate: its files are hashed and checked against its "
        "training manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path)
        parser.add_argument("--name", required=True, help="task and domain: regulatory-answer")
        parser.add_argument("--domains", nargs="*", default=[], help="corpus domains it answers")
        parser.add_argument("--user", required=True, help="who registers it")
        parser.add_argument("--notes", default="")

    def handle(self, *args, folder, name, domains, user, notes, **options):
        registrant = get_user_model().objects.filter(username=user).first()
        if registrant is None:
            raise CommandError(f"no user {user!r}")
        try:
            version = adapter_register(
                folder=folder, name=name, domains=domains, user=registrant, notes=notes
            )
        except (AdapterError, AdapterFilesChanged, PermissionDenied) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Registered {version} ({version.get_status_display().lower()}), "
            f"sha256 {version.sha256[:16]}, {len(version.files)} files"
        )
