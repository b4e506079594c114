from __future__ import annotations

from django.contrib import admin, messages

from apps.adapters.admin import AdapterVersionAdmin
from apps.adapters.models import AdapterStatus, AdapterVersion
from apps.training.tasks import evaluate_adapter

# Held-out questions per file when the gate is started from the admin: enough to compare the
# arms, few enough for a worker on a CPU; evaluate_adapter on the command line takes --limit.
ADMIN_LIMIT = 20


class GatedAdapterVersionAdmin(AdapterVersionAdmin):
    """The registry's admin with the evaluation gate, which lives with the training code."""

    actions = ["evaluate", *AdapterVersionAdmin.actions]

    def has_evaluate_permission(self, request) -> bool:
        return request.user.has_perm("adapters.evaluate_adapterversion")

    @admin.action(
        description="Evaluate the selected versions (the gate, in the background)",
        permissions=["evaluate"],
    )
    def evaluate(self, request, queryset):
        for version in queryset.exclude(status=AdapterStatus.RETIRED):
            evaluate_adapter.enqueue(version.pk, request.user.pk, ADMIN_LIMIT)
            self.message_user(request, f"{version}: evaluation queued", messages.INFO)


admin.site.unregister(AdapterVersion)
admin.site.register(AdapterVersion, GatedAdapterVersionAdmin)
