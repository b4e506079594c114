from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "practitioner": [],
    "auditor": [("corpora", "view_corpus"), ("corpora", "view_document"), ("corpora", "view_chunk")],
    "corpus admin": [
        (app, f"{action}_{model}")
        for app, model in [
            ("corpora", "corpus"),
            ("corpora", "document"),
            ("corpora", "chunk"),
            ("corpora", "ingestionjob"),
            ("accounts", "corpusaccess"),
        ]
        for action in ("add", "change", "delete", "view")
    ],
    "model admin": [],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the role groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for app_label, codename in codenames:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("corpora", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
