# One statement for what each event first needs: the chain's lock (with, for the event of a
# read, a commit that does not wait for the disk), then the head of the chain and the actor's
# groups, read after the lock is held (each statement of a volatile PL/pgSQL function sees
# what was committed before it ran).

from django.conf import settings
from django.db import migrations

CHAIN_HEAD = """
CREATE OR REPLACE FUNCTION audit_chain_head(lock_key bigint, asynchronous boolean, actor bigint)
RETURNS TABLE (seq bigint, hash varchar, groups varchar[]) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF asynchronous THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN QUERY
        SELECT h.seq, h.hash, (
            SELECT array_agg(g.name ORDER BY g.name)::varchar[] FROM {through} ug
            JOIN {group} g ON g.id = ug.{group_column} WHERE ug.{user_column} = actor)
        FROM (SELECT 1) one
        LEFT JOIN LATERAL (
            SELECT e.seq, e.hash FROM audit_event e ORDER BY e.seq DESC LIMIT 1
        ) h ON true;
END
$$;
"""


def create_chain_head(apps, schema_editor):
    user = apps.get_model(settings.AUTH_USER_MODEL)
    field = user._meta.get_field("groups")
    quote = schema_editor.quote_name
    schema_editor.execute(
        CHAIN_HEAD.format(
            through=quote(field.remote_field.through._meta.db_table),
            group=quote(field.related_model._meta.db_table),
            group_column=quote(field.m2m_reverse_name()),
            user_column=quote(field.m2m_column_name()),
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(
            create_chain_head,
            lambda apps, schema_editor: schema_editor.execute(
                "DROP FUNCTION audit_chain_head(bigint, boolean, bigint)"
            ),
        )
    ]
