from django.core.management.commands import migrate

from apps.audit.roles import as_owner


class Command(migrate.Command):
    help = migrate.Command.help + " Connects as the database owner (DATABASE_OWNER_URL)."

    def handle(self, *args, **options):
        with as_owner(options["database"]):
            return super().handle(*args, **options)
