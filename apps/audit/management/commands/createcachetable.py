from django.core.management.commands import createcachetable

from apps.audit.roles import as_owner


class Command(createcachetable.Command):
    help = createcachetable.Command.help + " Connects as the database owner (DATABASE_OWNER_URL)."

    def handle(self, *tablenames, **options):
        with as_owner(options["database"]):
            return super().handle(*tablenames, **options)
