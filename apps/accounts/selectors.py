from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.corpora.models import Corpus


def readable_corpora(user) -> QuerySet[Corpus]:
    """The corpora `user` may read: granted to them or to one of their groups.

    Evaluated in the database on every call, so a revoked grant takes effect on the next request.
    """
    if not user or not user.is_authenticated or not user.is_active:
        return Corpus.objects.none()
    if user.is_superuser:
        return Corpus.objects.all()
    return Corpus.objects.filter(
        Q(grants__user=user) | Q(grants__group__in=user.groups.all())
    ).distinct()
