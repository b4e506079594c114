from __future__ import annotations

from django.db import models


class Bm25IndexStatus(models.TextChoices):
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Bm25Index(models.Model):
    """One generation of a corpus's BM25 index, derived from its current chunks.

    Readers use the newest ready generation, so a new one replaces the old atomically when it
    is marked ready; it can always be rebuilt from the chunk table. The packed index is stored
    in parts (Bm25IndexPart).
    """

    corpus = models.ForeignKey(
        "corpora.Corpus", on_delete=models.CASCADE, related_name="bm25_indexes"
    )
    generation = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=Bm25IndexStatus.choices, default=Bm25IndexStatus.BUILDING
    )
    chunk_count = models.PositiveIntegerField(default=0)
    size_bytes = models.PositiveBigIntegerField(default=0)
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


class Bm25IndexPart(models.Model):
    """A slice of a packed BM25 index. PostgreSQL refuses a value or a message over 1 GB, and a
    bytea travels as hex, twice its size: an index of a million chunks (about 830 MB) fits
    only in parts."""

    index = models.ForeignKey(Bm25Index, on_delete=models.CASCADE, related_name="parts")
    ordinal = models.PositiveIntegerField()
    payload = models.BinaryField()

    class Meta:
        ordering = ["index", "ordinal"]
        constraints = [
            models.UniqueConstraint(
                fields=["index", "ordinal"], name="bm25indexpart_unique_ordinal"
            )
        ]

    def __str__(self) -> str:
        return f"{self.index} part {self.ordinal}"
