"""Moving the test database between migrations, for tests of what an upgrade does to data."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.audit.roles import as_owner


def migrate(app_label: str, name: str | None = None):
    """Migrate `app_label` to `name` (default: its latest) and return the models as they are
    there."""
    # Migrations run as the owner of the tables, as manage.py migrate does.
    with as_owner():
        executor = MigrationExecutor(connection)
        targets = [(app_label, name)] if name else executor.loader.graph.leaf_nodes(app_label)
        executor.migrate(targets)
        executor.loader.build_graph()
        return executor.loader.project_state(targets).apps
