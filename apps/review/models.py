from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Label(models.TextChoices):
    """The labels of Magesh et al., "Hallucination-Free?" (2024), for one citation."""

    CORRECT = "correct", "Correct and grounded"
    INCORRECT = "incorrect", "Incorrect"
    MISGROUNDED = "misgrounded", "Misgrounded: the source is real but does not support it"
    IRRELEVANT = "irrelevant", "Irrelevant to the question"
    FABRICATED = "fabricated", "Fabricated"


ERRORS = (Label.INCORRECT, Label.MISGROUNDED, Label.FABRICATED)
STRATA = ("corpus", "backend", "adapter", "status")


class Sample(models.Model):
    """A random sample of answers, stratified by corpus, backend, adapter version and status:
    drawn again from its definition (seed, filters, cut-off), it gives the same answers."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    seed = models.BigIntegerField()
    size = models.PositiveIntegerField()
    filters = models.JSONField(default=dict, blank=True)
    until = models.DateTimeField(help_text="answers recorded up to here were drawn from")
    population = models.PositiveIntegerField(help_text="answers the sample was drawn from")
    strata = models.JSONField(default=list, help_text="each stratum: its key, size and draw")
    answers = ArrayField(models.BigIntegerField(), default=list)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"sample #{self.pk} ({len(self.answers)} answers, seed {self.seed})"


class Assignment(models.Model):
    """An answer given to an auditor to review; two assignments make a double review."""

    answer = models.ForeignKey("assistant.Answer", on_delete=models.PROTECT, related_name="+")
    auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_assignments"
    )
    sample = models.ForeignKey(Sample, null=True, blank=True, on_delete=models.PROTECT)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["answer", "auditor"], name="assignment_once")
        ]

    def __str__(self) -> str:
        return f"answer #{self.answer_id} to {self.auditor}"


class Review(models.Model):
    """One auditor's labels for every citation of an answer, and a note. A draft until signed
    off; then a record that cannot change (the database refuses it), hashed, with its
    review.signed event. A correction is a new review that names the one it corrects."""

    answer = models.ForeignKey("assistant.Answer", on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    sample = models.ForeignKey(Sample, null=True, blank=True, on_delete=models.PROTECT)
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    # [{"statement": index in answer.statements, "source": number, "label": Label}, …]
    labels = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    signed_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True) | Q(content_hash__regex=r"^[0-9a-f]{64}$"),
                name="review_signed_is_hashed",
            ),
            models.UniqueConstraint(
                fields=["answer", "reviewer"],
                condition=Q(signed_at__isnull=True),
                name="review_one_draft",
            ),
        ]

    def __str__(self) -> str:
        state = "signed" if self.signed_at else "draft"
        return f"review #{self.pk} of answer #{self.answer_id} ({state})"

    @property
    def signed(self) -> bool:
        return self.signed_at is not None
