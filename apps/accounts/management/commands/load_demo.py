from __future__ import annotations

import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from apps.accounts.models import Role
from apps.accounts.services import corpus_access_grant, role_assign
from apps.corpora import services
from apps.corpora.models import Corpus

DEMO_SPEC = settings.BASE_DIR / "fixtures" / "demo.json"


def passwords_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-users.json"


class Command(BaseCommand):
    help = (
        "Load the demo corpora and demo users (idempotent). Passwords are random, local-only, "
        "kept in var/demo-users.json and printed at the end."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--skip-ingest", action="store_true", help="create corpora and users only"
        )

    def handle(self, *args, skip_ingest, **options):
        spec = json.loads(DEMO_SPEC.read_text())
        corpora = {entry["slug"]: self.ensure_corpus(entry) for entry in spec["corpora"]}
        passwords = load_passwords()
        for entry in spec["users"]:
            self.ensure_user(entry, corpora, passwords)
        save_passwords(passwords)
        if not skip_ingest:
            for entry in spec["corpora"]:
                path = DEMO_SPEC.parent / entry["documents"]
                call_command("ingest", str(path), corpus=entry["slug"], wait=True)
        self.print_users(spec["users"], passwords)

    def ensure_corpus(self, entry: dict) -> Corpus:
        fields = {k: entry[k] for k in ("name", "domain", "description", "jurisdiction")}
        corpus = Corpus.objects.filter(slug=entry["slug"]).first()
        if corpus is None:
            return services.corpus_create(
                slug=entry["slug"], attribution=entry["attribution"], **fields
            )
        return corpus

    def ensure_user(self, entry: dict, corpora: dict[str, Corpus], passwords: dict) -> None:
        User = get_user_model()
        user, created = User.objects.get_or_create(username=entry["username"])
        if created or entry["username"] not in passwords:
            passwords[entry["username"]] = secrets.token_urlsafe(12)
            user.set_password(passwords[entry["username"]])
        if entry.get("superuser"):
            user.is_staff = user.is_superuser = True
        user.save()
        for role in entry["roles"]:
            role_assign(user=user, role=Role(role))
        for slug in entry["corpora"]:
            corpus_access_grant(corpus=corpora[slug], user=user)

    def print_users(self, users: list[dict], passwords: dict) -> None:
        self.stdout.write(f"\nDemo users (local only; passwords also in {passwords_file()}):")
        for entry in users:
            what = "superuser" if entry.get("superuser") else ", ".join(entry["roles"])
            reads = "every corpus" if entry.get("superuser") else ", ".join(entry["corpora"]) or "-"
            self.stdout.write(
                f"  {entry['username']:<8} {passwords[entry['username']]:<18} "
                f"{what:<14} reads: {reads}"
            )


def load_passwords() -> dict:
    if passwords_file().exists():
        return json.loads(passwords_file().read_text())
    return {}


def save_passwords(passwords: dict) -> None:
    path = passwords_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(passwords, indent=2))
    path.chmod(0o600)
