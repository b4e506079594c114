from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    PRACTITIONER = "practitioner", "Practitioner"
    AUDITOR = "auditor", "Auditor"
    CORPUS_ADMIN = "corpus admin", "Corpus admin"
    MODEL_ADMIN = "model admin", "Model admin"


class CorpusAccess(models.Model):
    """A grant: a user, or every member of a group, may read a corpus."""

    corpus = models.ForeignKey("corpora.Corpus", on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="corpus_grants",
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="corpus_grants"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "corpus access grant"
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True)
                | Q(user__isnull=True, group__isnull=False),
                name="corpusaccess_user_xor_group",
            ),
            models.UniqueConstraint(fields=["corpus", "user"], name="corpusaccess_unique_user"),
            models.UniqueConstraint(fields=["corpus", "group"], name="corpusaccess_unique_group"),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.group} may read {self.corpus}"
