from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class AnswerStatus(models.TextChoices):
    ANSWERED = "answered", "Answered"
    CONFLICTING = "conflicting", "Sources disagree"
    ABSTAINED = "abstained", "Abstained"
    FAILED = "failed", "Failed"


class Answer(models.Model):
    """One question and everything needed to replay its answer: what the asker could read, the
    exact passages retrieved (chunk, version, content hash), the prompt, the generator and its
    settings, the raw output, and every statement with its citation verdicts.

    A record: hashed when written, vouched for by its answer.recorded event, and never changed
    (the database refuses UPDATE and DELETE)."""

    asker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="answers"
    )
    question = models.TextField()
    corpora = ArrayField(
        models.CharField(max_length=100),
        help_text="the corpora searched: those the asker could read, or the ones they chose",
    )
    filters = models.JSONField(default=dict, blank=True)
    hits = models.JSONField(default=list, blank=True)
    prompt = models.JSONField(default=dict, blank=True)
    backend = models.CharField(max_length=30)
    model = models.CharField(max_length=300, blank=True)
    adapter = models.CharField(max_length=200, blank=True)
    adapter_version = models.PositiveIntegerField(null=True, blank=True)
    adapter_sha256 = models.CharField(
        max_length=64, blank=True, help_text="of the adapter's files, as the registry holds them"
    )
    adapter_reason = models.CharField(
        max_length=300, blank=True, help_text="why this adapter, or none, answered"
    )
    decoding = models.JSONField(default=dict, blank=True)
    raw_output = models.TextField(blank=True)
    statements = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=AnswerStatus.choices)
    abstain_reason = models.TextField(blank=True)
    error = models.TextField(blank=True)
    timings = models.JSONField(default=dict, blank=True, help_text="seconds by stage")
    retrieval = models.JSONField(
        default=dict,
        blank=True,
        help_text="how the passages were found: the search query, its variants, the fusion, "
        "the embedding model and the analyser version",
    )
    checker = models.JSONField(
        default=dict,
        blank=True,
        help_text="the checker's version and cut-offs, and what it took the question to ask",
    )
    conflict = models.JSONField(
        null=True, blank=True, help_text="the sources that disagree on what the question asks"
    )
    # Set before the record is hashed, which is before it is written.
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    content_hash = models.CharField(
        max_length=64,
        editable=False,
        help_text="sha256 of the canonical content; its answer.recorded event holds it too",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(content_hash__regex=r"^[0-9a-f]{64}$"),
                name="answer_content_hashed",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.question[:60]}"

    @property
    def shown_statements(self) -> list[dict]:
        return [s for s in self.statements if s["shown"]]
