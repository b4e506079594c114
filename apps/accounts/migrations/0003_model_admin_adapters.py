from django.contrib.auth.management import create_permissions
from django.db import migrations

MODEL_ADMIN_PERMISSIONS = [
    ("adapters", codename)
    for codename in (
        "add_adapterversion",
        "change_adapterversion",
        "view_adapterversion",
        "evaluate_adapterversion",
        "approve_adapterversion",
        "activate_adapterversion",
        "view_adapterevent",
    )
]


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; the role needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="model admin")
    for app_label, codename in MODEL_ADMIN_PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_roles"), ("adapters", "0001_initial")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
