"""Events recorded from Django's own signals: sign-ins, sign-outs, failed sign-ins and every
change made through the admin; and the application role's grants after each migration."""

from __future__ import annotations

from django.apps import apps
from django.contrib.admin.models import LogEntryManager
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import connections
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from apps.audit.roles import grant_app_role
from apps.audit.services import event_record

ADMIN_ACTIONS = {1: "added", 2: "changed", 3: "deleted"}


@receiver(post_migrate)
def app_role_grants(sender, using="default", **kwargs) -> None:
    if sender is apps.get_app_config("audit"):
        grant_app_role(connections[using])


@receiver(user_logged_in)
def signed_in(sender, request, user, **kwargs) -> None:
    event_record(action="auth.signed_in", actor=user, obj=user, payload=where(request))


@receiver(user_logged_out)
def signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        event_record(action="auth.signed_out", actor=user, obj=user, payload=where(request))


@receiver(user_login_failed)
def sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", ""))[:150]
    event_record(
        action="auth.sign_in_failed",
        object_type="auth.user",
        object_id=username,
        payload=where(request),
    )


def where(request) -> dict:
    return {"path": request.path} if request is not None else {}


def admin_changes_record(entries) -> None:
    for entry in entries if isinstance(entries, list) else [entries]:
        event_record(
            action=f"admin.{ADMIN_ACTIONS.get(entry.action_flag, 'logged')}",
            actor=entry.user,
            object_type=entry.content_type.app_label + "." + entry.content_type.model,
            object_id=entry.object_id,
            # The admin's change message names the fields changed, never their values.
            payload={"log_entry": entry.pk, "change": entry.get_change_message()},
        )


# The admin logs several deletions with one bulk insert, which sends no post_save: record
# every logged admin change where it is logged, in the admin's transaction.
_log_actions = LogEntryManager.log_actions


def log_actions(self, user_id, queryset, action_flag, change_message="", *, single_object=False):
    entries = _log_actions(
        self, user_id, queryset, action_flag, change_message, single_object=single_object
    )
    admin_changes_record(entries)
    return entries


LogEntryManager.log_actions = log_actions
