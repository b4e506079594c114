from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from apps.accounts.models import CorpusAccess, Role
from apps.audit.services import event_record


@transaction.atomic
def corpus_access_grant(
    *, corpus, user=None, group: Group | None = None, actor=None
) -> CorpusAccess:
    """Let a user, or every member of a group, read `corpus`. Granting twice is a no-op.
    A new grant is recorded in the audit trail (grant.given), by `actor`."""
    if (user is None) == (group is None):
        raise ValueError("grant access to exactly one of a user or a group")
    grant, created = CorpusAccess.objects.get_or_create(corpus=corpus, user=user, group=group)
    if created:
        event_record(action="grant.given", actor=actor, obj=grant, payload=grant_record(grant))
    return grant


@transaction.atomic
def corpus_access_revoke(*, corpus, user=None, group: Group | None = None, actor=None) -> int:
    """Remove a grant; returns how many grants were removed (0 or 1). The grant's history
    stays in the audit trail: given (grant.given) and revoked (grant.revoked), by whom."""
    grant = CorpusAccess.objects.filter(corpus=corpus, user=user, group=group).first()
    if grant is None:
        return 0
    record = grant_record(grant)
    grant.delete()
    event_record(
        action="grant.revoked",
        actor=actor,
        object_type="accounts.corpusaccess",
        object_id=record["grant"],
        payload=record,
    )
    return 1


def grant_record(grant: CorpusAccess) -> dict:
    return {
        "grant": grant.pk,
        "corpus": grant.corpus.slug,
        "corpus_id": grant.corpus_id,
        "user": grant.user_id,
        "group": grant.group.name if grant.group_id else None,
        "granted_at": grant.granted_at.isoformat(),
    }


@transaction.atomic
def role_assign(*, user, role: Role) -> None:
    """Put `user` in the group of `role`; staff access follows for the admin roles."""
    user.groups.add(Group.objects.get(name=role.value))
    if role in (Role.AUDITOR, Role.CORPUS_ADMIN, Role.MODEL_ADMIN) and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
