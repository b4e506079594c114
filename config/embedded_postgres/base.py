from __future__ import annotations

import contextlib
import functools
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from django.db.backends.postgresql import base

# What the embedded server runs with beyond PostgreSQL's defaults: a cache big enough for the
# HNSW index of a few hundred thousand chunks, which otherwise is read page by page from the
# operating system's cache (at 100,000 chunks, p50 / p95 of a vector query 9.3 / 22.6 ms with
# the default 128MB, 5.2 / 15.2 ms with this).
SERVER_SETTINGS = {"shared_buffers": "1GB"}
SETTINGS_MARKER = "# Settings of the compliance-qa embedded server"
SUPERUSER = "postgres"


def configure(data_dir: Path) -> None:
    """Add SERVER_SETTINGS to an initialised data directory's postgresql.conf, once. PostgreSQL
    reads them when it starts: a new directory gets them from its second start on."""
    conf = data_dir / "postgresql.conf"
    if not conf.exists() or SETTINGS_MARKER in conf.read_text(encoding="utf-8"):
        return
    lines = "".join(f"{name} = '{value}'\n" for name, value in SERVER_SETTINGS.items())
    with conf.open("a", encoding="utf-8") as settings_file:
        settings_file.write(f"\n{SETTINGS_MARKER}\n{lines}")


@functools.cache
def embedded_server_socket_dir(data_dir: str) -> str:
    # Every process (web, worker, command, test run) takes its own handle on the same data
    # directory; pgserver stops the server when the last handle's process exits.
    with warnings.catch_warnings():
        # pgserver asks platformdirs for XDG_RUNTIME_DIR, unset under CI and in containers.
        warnings.simplefilter("ignore")
        import pgserver

        Path(data_dir).parent.mkdir(parents=True, exist_ok=True)
        configure(Path(data_dir))
        server = pgserver.get_server(data_dir, cleanup_mode="stop")
    return parse_qs(urlparse(server.get_uri()).query)["host"][0]


@functools.cache
def ensure_role(socket_dir: str, role: str) -> None:
    """Create the login role `role` if the server lacks it: with no privilege of its own, so
    that migrations (as the superuser, which owns every table) grant it what it may do."""
    import psycopg
    from psycopg import errors, sql

    with psycopg.connect(
        host=socket_dir, dbname="postgres", user=SUPERUSER, autocommit=True
    ) as connection:
        if connection.execute("SELECT FROM pg_roles WHERE rolname = %s", [role]).fetchone():
            return
        # Another process may make it first.
        with contextlib.suppress(errors.DuplicateObject, errors.UniqueViolation):
            connection.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        params["host"] = embedded_server_socket_dir(self.settings_dict["DATA_DIR"])
        # The owner's connection (apps.audit.roles.as_owner) names the application role as
        # APP_USER: it must exist before the grants that follow a migration look for it.
        for role in (params.get("user"), self.settings_dict.get("APP_USER")):
            if role and role != SUPERUSER:
                ensure_role(params["host"], role)
        return params
