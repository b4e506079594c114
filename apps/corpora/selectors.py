from __future__ import annotations

from django.db.models import QuerySet

from apps.corpora.models import IngestionJob


def ingestion_jobs_visible_to(user) -> QuerySet[IngestionJob]:
    """Jobs a user may follow: all of them for corpus admins, none for anyone else."""
    if user.has_perm("corpora.view_ingestionjob"):
        return IngestionJob.objects.select_related("corpus")
    return IngestionJob.objects.none()
