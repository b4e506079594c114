"""The two database roles: the owner, which runs migrations and owns every table, and the
application role, which the site and its commands connect as. The application role may read
and write the product's tables but only INSERT and SELECT the append-only ones (those under
the `audit_refuse_change` trigger), and TRUNCATE nothing.

Settings: DATABASES["default"] connects as the application role; its "OWNER" entry holds the
owner's USER and PASSWORD (DATABASE_OWNER_URL; embedded: the server's superuser).
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connections

APPEND_ONLY_TABLES = """
SELECT DISTINCT c.relname FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE t.tgfoid = 'audit_refuse_change'::regproc AND t.tgnargs = 0
  AND n.nspname = current_schema()
ORDER BY 1
"""


def owner_settings(alias: str = "default") -> dict:
    settings_dict = connections[alias].settings_dict
    return settings_dict.get("OWNER") or {"USER": settings_dict["USER"]}


def app_role(alias: str = "default") -> str:
    settings_dict = connections[alias].settings_dict
    return settings_dict.get("APP_USER") or settings_dict["USER"]


def separate_roles(alias: str = "default") -> bool:
    return owner_settings(alias)["USER"] != app_role(alias)


@contextmanager
def as_owner(alias: str = "default"):
    """Connect `alias` as the owner for the duration (this thread's connection only)."""
    connection = connections[alias]
    original = connection.settings_dict
    owner = owner_settings(alias)
    if owner["USER"] == original["USER"]:
        yield connection
        return
    if connection.in_atomic_block:
        raise RuntimeError("cannot change database role inside a transaction")
    connection.close()
    connection.settings_dict = {**original, **owner, "APP_USER": original["USER"]}
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict = original


def grant_app_role(connection) -> list[str]:
    """Grant the application role what it needs, connected as the owner; idempotent. Returns
    the append-only tables, on which it keeps only INSERT and SELECT."""
    role = app_role(connection.alias)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, EXISTS (SELECT FROM pg_roles WHERE rolname = %s)", [role]
        )
        owner, exists = cursor.fetchone()
        cursor.execute(APPEND_ONLY_TABLES)
        append_only = [name for (name,) in cursor.fetchall()]
        if owner == role or not exists:
            return append_only
        quoted = connection.ops.quote_name(role)
        cursor.execute("SELECT quote_ident(current_schema())")
        (ns,) = cursor.fetchone()
        dml = "SELECT, INSERT, UPDATE, DELETE"
        for statement in (
            f"GRANT USAGE ON SCHEMA {ns} TO {quoted}",
            f"GRANT {dml} ON ALL TABLES IN SCHEMA {ns} TO {quoted}",
            f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {ns} TO {quoted}",
            f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {ns} FROM {quoted}",
            # Tables and sequences that later migrations make, as the owner.
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {ns} GRANT {dml} ON TABLES TO {quoted}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {ns} GRANT USAGE, SELECT, UPDATE ON SEQUENCES "
            f"TO {quoted}",
        ):
            cursor.execute(statement)
        for table in append_only:
            table = connection.ops.quote_name(table)
            cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {quoted}, PUBLIC")
    return append_only
