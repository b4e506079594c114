from __future__ import annotations

from django.contrib import admin

from apps.retrieval.models import Bm25Index

SHOWN_FIELDS = [
    "corpus",
    "generation",
    "status",
    "chunk_count",
    "size_bytes",
    "build_seconds",
    "created_at",
    "ready_at",
    "error",
]


@admin.register(Bm25Index)
class Bm25IndexAdmin(admin.ModelAdmin):
    list_display = ["corpus", "generation", "status", "chunk_count", "build_seconds", "ready_at"]
    list_filter = ["status", "corpus"]
    list_select_related = ["corpus"]
    fields = SHOWN_FIELDS
    readonly_fields = SHOWN_FIELDS

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
