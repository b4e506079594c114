from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

from config.embedded_postgres.base import SERVER_SETTINGS

CONNECT_AND_REPORT = """
import django
django.setup()
from django.db import connection
from apps.audit.roles import as_owner
with connection.cursor() as cursor:
    cursor.execute("SELECT current_user")
    assert cursor.fetchone()[0] == "compliance_app", "the site connects as the application role"
# Only a superuser reads where the data directory is.
with as_owner(), connection.cursor() as cursor:
    cursor.execute("SELECT current_setting('data_directory'), current_setting('shared_buffers')")
    print(*cursor.fetchone())
"""


READ_A_TABLE = """
import django
django.setup()
from apps.corpora.models import Corpus
print(Corpus.objects.count())
"""


def run_app_process(var_dir, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, *(args or ["-c", CONNECT_AND_REPORT])],
        cwd=settings.BASE_DIR,
        env={**env, "VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="DATABASE_URL selects a server")
def test_the_embedded_server_starts_on_demand_under_var_and_stops_with_its_last_user(tmp_path):
    first = run_app_process(tmp_path)

    assert first.returncode == 0, first.stderr[-2000:]
    data_directory, cache = first.stdout.split()
    assert data_directory == str(tmp_path / "pgdata")
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists(), "the server was left running"

    second = run_app_process(tmp_path)
    assert second.returncode == 0, second.stderr[-2000:]
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()
    # The settings are added once the directory exists, and read from the next start on.
    assert (cache, second.stdout.split()[1]) == ("128MB", SERVER_SETTINGS["shared_buffers"])
    third = run_app_process(tmp_path)
    assert third.stdout.split()[1] == SERVER_SETTINGS["shared_buffers"]
    assert (tmp_path / "pgdata" / "postgresql.conf").read_text().count("shared_buffers = '") == 1


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="DATABASE_URL selects a server")
def test_migrate_as_the_first_command_leaves_the_application_role_its_privileges(tmp_path):
    migrated = run_app_process(tmp_path, "manage.py", "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr[-2000:]

    read = run_app_process(tmp_path, "-c", READ_A_TABLE)
    assert read.returncode == 0, read.stderr[-2000:]
    assert read.stdout.split() == ["0"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_request_reuses_the_database_connection_of_the_one_before():
    from django.db import close_old_connections, connection

    connection.ensure_connection()
    before = connection.connection.info.backend_pid
    close_old_connections()  # what Django does as each request starts and ends

    connection.ensure_connection()
    assert connection.connection.info.backend_pid == before
