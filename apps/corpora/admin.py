from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q
from django.utils.html import format_html, format_html_join

from apps.corpora.models import Chunk, Corpus, Document, DocumentStatus, IngestionJob


@admin.register(Corpus)
class CorpusAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "domain", "active_documents", "embedding_model", "updated_at"]
    list_filter = ["domain"]
    search_fields = ["slug", "name"]
    readonly_fields = ["embedding_model", "embedding_dim", "created_at", "updated_at"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                active_count=Count("documents", filter=Q(documents__status=DocumentStatus.ACTIVE))
            )
        )

    @admin.display(description="active documents", ordering="active_count")
    def active_documents(self, corpus: Corpus) -> int:
        return corpus.active_count


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["citation_label", "corpus", "external_id", "version", "status", "doc_type"]
    list_filter = ["corpus", "status", "doc_type"]
    search_fields = ["citation_label", "title", "external_id"]
    list_select_related = ["corpus"]
    readonly_fields = [f.name for f in Document._meta.fields if f.name not in ("status",)]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    list_display = ["__str__", "corpus", "ordinal", "headings", "page_start", "token_count"]
    list_filter = ["corpus", "document__status"]
    search_fields = ["document__citation_label", "document__external_id"]
    list_select_related = ["document", "corpus"]
    exclude = ["embedding"]
    readonly_fields = [f.name for f in Chunk._meta.fields if f.name != "embedding"]

    @admin.display(description="headings")
    def headings(self, chunk: Chunk) -> str:
        return " › ".join(chunk.heading_path)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(IngestionJob)
class IngestionJobAdmin(admin.ModelAdmin):
    list_display = ["id", "corpus", "status", "progress", "stage", "error_count", "created_at"]
    list_filter = ["status", "corpus"]
    readonly_fields = [f.name for f in IngestionJob._meta.fields] + ["progress", "error_list"]
    exclude = ["errors"]

    @admin.display(description="progress")
    def progress(self, job: IngestionJob) -> str:
        return format_html(
            '<progress max="100" value="{}"></progress> {}% ({} / {} chunks)',
            job.progress_percent,
            job.progress_percent,
            job.progress_done,
            job.progress_total,
        )

    @admin.display(description="errors")
    def error_count(self, job: IngestionJob) -> int:
        return len(job.errors)

    @admin.display(description="errors")
    def error_list(self, job: IngestionJob) -> str:
        if not job.errors:
            return "none"
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((e,) for e in job.errors))
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
