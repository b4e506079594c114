from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from pgvector.django import HnswIndex, VectorField

from apps.corpora.chunking import ChunkingSettings


class Domain(models.TextChoices):
    LEGAL = "legal", "Legal"
    MEDICAL = "medical", "Medical"
    REGULATORY = "regulatory", "Regulatory"


class Corpus(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=16, choices=Domain.choices)
    description = models.TextField(blank=True)
    jurisdiction = models.CharField(max_length=200, blank=True)
    attribution = models.TextField(blank=True, help_text="Source and licence of the documents.")
    embedding_model = models.CharField(max_length=300, blank=True)
    embedding_dim = models.PositiveSmallIntegerField(null=True, blank=True)
    chunk_target_tokens = models.PositiveSmallIntegerField(
        default=200, help_text="Pack structural units into chunks of about this many word pieces."
    )
    chunk_max_tokens = models.PositiveSmallIntegerField(
        default=256, help_text="Hard limit per chunk; at most the embedding model's window."
    )
    chunk_overlap_tokens = models.PositiveSmallIntegerField(
        default=32, help_text="Overlap between the pieces of a unit too long for one chunk."
    )
    chunk_include_headings = models.BooleanField(
        default=True, help_text="Index each chunk with its document title and heading path."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "corpora"
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def chunking_settings(self) -> ChunkingSettings:
        return ChunkingSettings(
            max_tokens=self.chunk_max_tokens,
            target_tokens=self.chunk_target_tokens,
            overlap_tokens=self.chunk_overlap_tokens,
            include_headings=self.chunk_include_headings,
        )


class DocumentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUPERSEDED = "superseded", "Superseded"
    RETIRED = "retired", "Retired"


class Document(models.Model):
    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="documents")
    external_id = models.CharField(max_length=300)
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(
        max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.ACTIVE
    )
    title = models.CharField(max_length=500)
    citation_label = models.CharField(max_length=500)
    source = models.CharField(max_length=1000, blank=True, help_text="File name or URL.")
    doc_type = models.CharField(max_length=64, blank=True)
    jurisdiction = models.CharField(max_length=200, blank=True, help_text="Jurisdiction or court.")
    date = models.DateField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    text = models.TextField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["corpus", "external_id", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["corpus", "external_id", "version"], name="document_unique_version"
            ),
            models.UniqueConstraint(
                fields=["corpus", "external_id"],
                condition=Q(status="active"),
                name="document_one_active_version",
            ),
        ]
        indexes = [models.Index(fields=["corpus", "status"])]

    def __str__(self) -> str:
        return f"{self.citation_label} (v{self.version})"


class Chunk(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    # Denormalised so that retrieval can filter by corpus (access) inside the index scan.
    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="+")
    ordinal = models.PositiveIntegerField()
    char_start = models.PositiveIntegerField()
    char_end = models.PositiveIntegerField()
    text = models.TextField()
    heading_path = ArrayField(models.CharField(max_length=500), default=list, blank=True)
    page_start = models.PositiveIntegerField(null=True, blank=True)
    page_end = models.PositiveIntegerField(null=True, blank=True)
    index_text = models.TextField(help_text="Normalised text with title and headings, as indexed.")
    token_count = models.PositiveSmallIntegerField()
    content_hash = models.CharField(max_length=64, db_index=True)
    embedding = VectorField(dimensions=settings.EMBEDDING_DIM, null=True, blank=True)

    class Meta:
        ordering = ["document", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["document", "ordinal"], name="chunk_unique_ordinal"),
            models.CheckConstraint(
                condition=Q(char_end__gt=models.F("char_start")), name="chunk_nonempty_range"
            ),
        ]
        indexes = [
            HnswIndex(
                name="chunk_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            )
        ]

    def __str__(self) -> str:
        return f"{self.document.citation_label} #{self.ordinal}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Finished with errors"
    FAILED = "failed", "Failed"


class IngestionJob(models.Model):
    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="ingestion_jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    paths = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    stage = models.CharField(max_length=200, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    documents_created = models.PositiveIntegerField(default=0)
    documents_updated = models.PositiveIntegerField(default=0)
    documents_unchanged = models.PositiveIntegerField(default=0)
    chunks_written = models.PositiveIntegerField(default=0)
    chunks_embedded = models.PositiveIntegerField(default=0)
    chunks_reused = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    seconds_by_stage = models.JSONField(
        default=dict, blank=True, help_text="Wall time spent parsing, chunking, embedding, writing."
    )
    task_result_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the job's worker last showed it was alive; a running job's goes stale "
        "only if its worker stopped.",
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Ingestion #{self.pk} into {self.corpus.slug}"

    @property
    def progress_percent(self) -> int:
        if self.status in (JobStatus.SUCCEEDED, JobStatus.PARTIAL):
            return 100
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)
