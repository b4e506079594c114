from __future__ import annotations

from django.db.models import QuerySet

from apps.assistant.models import Answer


def visible_answers(user) -> QuerySet[Answer]:
    """Answers `user` may see: their own, or all of them for auditors and admins."""
    if user.has_perm("assistant.view_answer"):
        return Answer.objects.all()
    return Answer.objects.filter(asker=user)
