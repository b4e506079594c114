import django.db.models.deletion
from django.db import migrations, models

PART_BYTES = 64 * 2**20


def payloads_to_parts(apps, schema_editor):
    Bm25Index = apps.get_model("retrieval", "Bm25Index")
    Bm25IndexPart = apps.get_model("retrieval", "Bm25IndexPart")
    for pk in Bm25Index.objects.values_list("pk", flat=True):
        payload = bytes(Bm25Index.objects.values_list("payload", flat=True).get(pk=pk))
        for ordinal, start in enumerate(range(0, len(payload), PART_BYTES)):
            Bm25IndexPart.objects.create(
                index_id=pk, ordinal=ordinal, payload=payload[start : start + PART_BYTES]
            )
        Bm25Index.objects.filter(pk=pk).update(size_bytes=len(payload))


def parts_to_payloads(apps, schema_editor):
    Bm25Index = apps.get_model("retrieval", "Bm25Index")
    Bm25IndexPart = apps.get_model("retrieval", "Bm25IndexPart")
    for pk in Bm25Index.objects.values_list("pk", flat=True):
        parts = Bm25IndexPart.objects.filter(index_id=pk).order_by("ordinal")
        payload = b"".join(bytes(p) for p in parts.values_list("payload", flat=True))
        Bm25Index.objects.filter(pk=pk).update(payload=payload)


class Migration(migrations.Migration):
    dependencies = [
        ("retrieval", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="bm25index",
            name="size_bytes",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.CreateModel(
            name="Bm25IndexPart",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("ordinal", models.PositiveIntegerField()),
                ("payload", models.BinaryField()),
                (
                    "index",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="parts",
                        to="retrieval.bm25index",
                    ),
                ),
            ],
            options={
                "ordering": ["index", "ordinal"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("index", "ordinal"), name="bm25indexpart_unique_ordinal"
                    )
                ],
            },
        ),
        migrations.RunPython(payloads_to_parts, parts_to_payloads),
        migrations.RemoveField(model_name="bm25index", name="payload"),
    ]
