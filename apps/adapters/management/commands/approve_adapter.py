from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from apps.adapters.models import AdapterVersion
from apps.adapters.services import AdapterError, adapter_activate, adapter_approve, adapter_rollback


class Command(BaseCommand):
    help = (
        "Approve an evaluated adapter version (someone other than who registered it), "
        "--activate it, or --rollback NAME to the version active before."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("version", type=int, nargs="?")
        parser.add_argument("--user", required=True)
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--activate", action="store_true", help="activate an approved one")
        action.add_argument("--rollback", action="store_true", help="back to the one before")

    def handle(self, *args, name, version, user, activate, rollback, **options):
        actor = get_user_model().objects.filter(username=user).first()
        if actor is None:
            raise CommandError(f"no user {user!r}")
        try:
            if rollback:
                done = adapter_rollback(name=name, user=actor)
            else:
                adapter = AdapterVersion.objects.filter(name=name, version=version).first()
                if adapter is None:
                    raise CommandError(f"no adapter {name} v{version} in the registry")
                act = adapter_activate if activate else adapter_approve
                done = act(version=adapter, user=actor)
        except (AdapterError, PermissionDenied) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{done} is {done.get_status_display().lower()}")
