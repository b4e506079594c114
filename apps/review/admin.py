from __future__ import annotations

from django.contrib import admin

from apps.review.models import Assignment, Review, Sample


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Reviews are written on the workbench (/review/); here they are only listed."""

    list_display = ["id", "answer", "reviewer", "signed_at", "corrects"]
    list_filter = ["signed_at"]
    readonly_fields = [f.name for f in Review._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Sample)
class SampleAdmin(ReviewAdmin):
    list_display = ["id", "created_at", "created_by", "seed", "size", "population"]
    list_filter = []
    readonly_fields = [f.name for f in Sample._meta.fields]


@admin.register(Assignment)
class AssignmentAdmin(ReviewAdmin):
    list_display = ["id", "answer", "auditor", "assigned_by", "created_at"]
    list_filter = []
    readonly_fields = [f.name for f in Assignment._meta.fields]
