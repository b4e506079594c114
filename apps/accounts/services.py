from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from apps.accounts.models import CorpusAccess, Role


@transaction.atomic
def corpus_access_grant(*, corpus, user=None, group: Group | None = None) -> CorpusAccess:
    """Let a user, or every member of a group, read `corpus`. Granting twice is a no-op."""
    if (user is None) == (group is None):
        raise ValueError("grant access to exactly one of a user or a group")
    grant, _ = CorpusAccess.objects.get_or_create(corpus=corpus, user=user, group=group)
    return grant


@transaction.atomic
def corpus_access_revoke(*, corpus, user=None, group: Group | None = None) -> int:
    """Remove a grant; returns how many grants were removed (0 or 1)."""
    deleted, _ = CorpusAccess.objects.filter(corpus=corpus, user=user, group=group).delete()
    return deleted


@transaction.atomic
def role_assign(*, user, role: Role) -> None:
    """Put `user` in the group of `role`; staff access follows for the admin roles."""
    user.groups.add(Group.objects.get(name=role.value))
    if role in (Role.AUDITOR, Role.CORPUS_ADMIN, Role.MODEL_ADMIN) and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
