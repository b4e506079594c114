"""The database's own protections, met as the application role the site connects as."""

from __future__ import annotations

import pytest
from django.db import ProgrammingError, connection, transaction

from apps.audit.roles import as_owner, separate_roles
from apps.audit.services import event_record

pytestmark = pytest.mark.skipif(
    not separate_roles(), reason="the site and the migrations connect as one role here"
)


def run(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def refused(sql: str) -> str:
    with pytest.raises(ProgrammingError) as refusal, transaction.atomic():
        run(sql)
    return str(refusal.value)


def test_the_site_connects_as_a_role_without_special_powers(db):
    [(user, superuser, createdb, createrole, bypassrls)] = run(
        "SELECT current_user, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls "
        "FROM pg_roles WHERE rolname = current_user"
    )
    assert user == connection.settings_dict["USER"] != connection.settings_dict["OWNER"]["USER"]
    assert not (superuser or createdb or createrole or bypassrls)
    [(owner,)] = run("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_event'")
    assert owner != user


@pytest.mark.parametrize("table", ["audit_event", "audit_checkpoint"])
def test_the_application_role_may_only_insert_and_select_the_trail(db, table):
    privileges = {
        privilege: run("SELECT has_table_privilege(%s, %s)", [table, privilege])[0][0]
        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER")
    }
    assert privileges == {
        "SELECT": True,
        "INSERT": True,
        "UPDATE": False,
        "DELETE": False,
        "TRUNCATE": False,
        "TRIGGER": False,
    }


def test_updates_deletes_and_truncation_are_refused_to_the_site(db):
    event_record(action="test.done")
    for sql in (
        "UPDATE audit_event SET action = 'forged'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
        "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only",
        "DROP TRIGGER audit_event_append_only ON audit_event",
    ):
        message = refused(sql)
        assert "permission denied" in message or "must be owner" in message, sql
    assert run("SELECT action FROM audit_event") == [("test.done",)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_trigger_refuses_changes_even_to_the_owner():
    event_record(action="test.done")
    with as_owner():
        for sql in ("UPDATE audit_event SET action = 'forged'", "DELETE FROM audit_event"):
            assert "audit_event is append-only" in refused(sql)


def test_no_ordinary_table_may_be_truncated_by_the_site(db):
    assert "permission denied" in refused("TRUNCATE corpora_corpus")
    assert run("SELECT has_table_privilege('corpora_corpus', 'UPDATE')") == [(True,)]
