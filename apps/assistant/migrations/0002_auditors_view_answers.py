from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_view_answer(apps, schema_editor):
    # Permissions are normally created after all migrations; the auditor group needs this now.
    app_config = apps.get_app_config("assistant")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    auditor, _ = Group.objects.get_or_create(name="auditor")
    auditor.permissions.add(
        Permission.objects.get(content_type__app_label="assistant", codename="view_answer")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("assistant", "0001_initial"),
        ("accounts", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant_view_answer, migrations.RunPython.noop)]
