from __future__ import annotations

from django.contrib import admin

from apps.audit.models import Checkpoint, Event
from apps.audit.services import event_record


class ReadsRecorded:
    """For admin pages that show corpus or record text: each page read is an event."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            event_record(
                action="admin.viewed",
                durable=False,
                actor=request.user,
                object_type=self.model._meta.label_lower,
                object_id=object_id,
            )
        return response


class ReadOnlyAdmin(admin.ModelAdmin):
    """The trail is read here and written only by the product; the database refuses the rest."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "created_at", "actor", "role", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type", "role"]
    search_fields = ["=actor", "=object_id", "action"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Event._meta.fields]
    show_full_result_count = False


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["seq", "signed_at", "hash", "public_key"]
    readonly_fields = [f.name for f in Checkpoint._meta.fields]
