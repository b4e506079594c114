from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from apps.audit.verification import audit_verify


class Command(BaseCommand):
    help = (
        "Verify the audit trail: recompute the hash chain, check every signed checkpoint "
        "against it and every hashed record (answers, signed reviews) against its row and "
        "its creation event. Reports the first broken link with its sequence number and "
        "exits with status 1 when anything fails."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print the result as JSON"
        )

    def handle(self, *args, as_json: bool = False, **options):
        result = audit_verify()
        if as_json:
            self.stdout.write(dumps(result.as_dict()))
        else:
            self.report(result)
        if not result.ok:
            raise CommandError("the audit trail does not verify", returncode=1)

    def report(self, result) -> None:
        records = ", ".join(f"{count} {name}" for name, count in result.records.items())
        self.stdout.write(
            f"{result.events} events, {result.checkpoints} checkpoints"
            + (f", records: {records}" if records else "")
        )
        for note in result.notes:
            self.stdout.write(f"note: {note}")
        if result.ok:
            head = f" (head #{result.head[0]} {result.head[1]})" if result.head else ""
            self.stdout.write(self.style.SUCCESS(f"The audit trail verifies{head}."))
            return
        first = result.first_broken
        where = f" at event {first.seq}" if first.seq is not None else ""
        self.stdout.write(self.style.ERROR(f"First broken link{where}: {first.message}"))
        for problem in result.problems[:50]:
            if problem is not first:
                self.stdout.write(f"  also: {problem.message}")
        if len(result.problems) > 50:
            self.stdout.write(f"  … and {len(result.problems) - 50} more")


def dumps(value) -> str:
    return json.dumps(value, indent=2)
