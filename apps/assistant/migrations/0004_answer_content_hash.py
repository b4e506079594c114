# Answers become records: each gets the hash of its canonical content and an answer.recorded
# event that holds it (answers recorded before this get theirs now, marked backfilled); then
# the database refuses to change or delete them.

import django.utils.timezone
from django.db import migrations, models
from django.utils import timezone

from apps.audit.hashing import GENESIS, content_hash, event_hash

CHAIN_LOCK = 0x61756469745F6576  # apps.audit.services.CHAIN_LOCK


def seal_recorded_answers(apps, schema_editor):
    Answer = apps.get_model("assistant", "Answer")
    Event = apps.get_model("audit", "Event")
    fields = [
        f.attname for f in Answer._meta.concrete_fields if f.name not in ("id", "content_hash")
    ]
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
    last = Event.objects.order_by("-seq").first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    now = timezone.now()
    for answer in Answer.objects.order_by("pk").iterator():
        sealed = content_hash({name: getattr(answer, name) for name in fields})
        Answer.objects.filter(pk=answer.pk).update(content_hash=sealed)
        seq += 1
        chained = {
            "seq": seq,
            "time": now,
            "actor_id": None,
            "actor": "",
            "role": "system",
            "action": "answer.recorded",
            "object_type": "assistant.answer",
            "object_id": str(answer.pk),
            "payload": {"content_hash": sealed, "fields": fields, "backfilled": True},
        }
        digest = event_hash(prev, chained)
        Event.objects.create(
            seq=seq,
            created_at=now,
            actor_id=None,
            actor="",
            role="system",
            action="answer.recorded",
            object_type="assistant.answer",
            object_id=str(answer.pk),
            payload=chained["payload"],
            prev_hash=prev,
            hash=digest,
        )
        prev = digest


class Migration(migrations.Migration):

    dependencies = [
        ("assistant", "0003_answer_replay_and_conflict"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="answer",
            name="created_at",
            field=models.DateTimeField(
                db_index=True, default=django.utils.timezone.now, editable=False
            ),
        ),
        migrations.AddField(
            model_name="answer",
            name="content_hash",
            field=models.CharField(
                default="",
                editable=False,
                help_text="sha256 of the canonical content; its answer.recorded event holds it too",
                max_length=64,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(seal_recorded_answers, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="answer",
            constraint=models.CheckConstraint(
                condition=models.Q(content_hash__regex="^[0-9a-f]{64}$"),
                name="answer_content_hashed",
            ),
        ),
        migrations.RunSQL(
            "CREATE TRIGGER assistant_answer_append_only BEFORE UPDATE OR DELETE "
            "ON assistant_answer FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
            "DROP TRIGGER assistant_answer_append_only ON assistant_answer",
        ),
    ]
