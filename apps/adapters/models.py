from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q

from apps.corpora.models import Domain


class AdapterStatus(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    EVALUATED = "evaluated", "Evaluated"
    APPROVED = "approved", "Approved"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


APPROVED_STATUSES = (AdapterStatus.APPROVED, AdapterStatus.ACTIVE)


class AdapterVersion(models.Model):
    """One trained version of a LoRA adapter, named by task and domain (`regulatory-answer`),
    with the hashes of its files, the manifests it was built from, its evaluation, and who
    moved it through candidate → evaluated → approved → active → retired."""

    name = models.SlugField(max_length=100)
    version = models.PositiveIntegerField()
    domains = ArrayField(
        models.CharField(max_length=20, choices=Domain.choices),
        default=list,
        blank=True,
        help_text="the corpus domains it answers for; empty: any",
    )
    path = models.CharField(max_length=500, help_text="the adapter folder, as this host sees it")
    base_model = models.CharField(max_length=300)
    base_model_sha256 = models.CharField(max_length=64, help_text="of its weights and tokenizer")
    files = models.JSONField(help_text="sha256 of every file of the adapter folder, by name")
    sha256 = models.CharField(max_length=64, help_text="one sha256 of all its files")
    dataset_manifest = models.JSONField(default=dict, blank=True)
    training_manifest = models.JSONField(default=dict, blank=True)
    evaluation = models.JSONField(default=dict, blank=True, help_text="the gate's last report")
    evaluation_passed = models.BooleanField(default=False)
    status = models.CharField(
        max_length=20, choices=AdapterStatus.choices, default=AdapterStatus.CANDIDATE
    )
    notes = models.TextField(blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(auto_now_add=True)
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    evaluated_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "-version"]
        permissions = [
            ("evaluate_adapterversion", "Can evaluate adapter versions"),
            ("approve_adapterversion", "Can approve adapter versions"),
            ("activate_adapterversion", "Can activate and roll back adapter versions"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="adapter_version_unique"),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(status=AdapterStatus.ACTIVE),
                name="adapter_one_active_version",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=APPROVED_STATUSES)
                | Q(evaluation_passed=True, approved_by__isnull=False),
                name="adapter_approved_after_passing_evaluation",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("registered_by")),
                name="adapter_approver_is_not_registrant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def key(self) -> str:
        """The adapter's name in a process that may hold several versions of it."""
        return f"{self.name}-v{self.version}"


class AdapterEvent(models.Model):
    """What was done to an adapter version, by whom and when; written once, never changed."""

    adapter = models.ForeignKey(AdapterVersion, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.adapter} {self.action}"
