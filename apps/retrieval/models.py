from __future__ import annotations

from django.db import models


class Bm25IndexStatus(models.TextChoices):
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Bm25Index(models.Model):
    """One generation of a corpus's BM25 index, derived from its current chunks.

    Readers use the newest ready generation, so a new one replaces the old atomically when it
    is marked ready; it can always be rebuilt from the chunk table.
    """

    corpus = models.ForeignKey(
        "corpora.Corpus", on_delete=models.CASCADE, related_name="bm25_indexes"
    )
    generation = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=Bm25IndexStatus.choices, default=Bm25IndexStatus.BUILDING
    )
    chunk_count = models.PositiveIntegerField(default=0)
    payload = models.BinaryField(editable=False, default=bytes)
    build_seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "BM25 index"
        ordering = ["corpus", "-generation"]
        constraints = [
            models.UniqueConstraint(
                fields=["corpus", "generation"], name="bm25index_unique_generation"
            )
        ]

    def __str__(self) -> str:
        return f"BM25 {self.corpus_id} gen {self.generation} ({self.status})"
