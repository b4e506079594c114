from django.core.management.commands import flush

from apps.audit.roles import as_owner


class Command(flush.Command):
    help = flush.Command.help + " Connects as the database owner (DATABASE_OWNER_URL)."

    def handle(self, **options):
        with as_owner(options["database"]):
            return super().handle(**options)
