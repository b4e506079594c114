from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.html import format_html, format_html_join

from apps.adapters import services
from apps.adapters.models import AdapterEvent, AdapterVersion

STEPS = ("registered", "evaluated", "approved", "activated")
METRICS = (
    ("answered with gold evidence", "answered_with_gold"),
    ("abstained (unanswerable)", "abstention_unanswerable"),
    ("dropped statement rate", "dropped_statement_rate"),
    ("unsupported statements shown", "unsupported_shown"),
    ("citation accuracy", "citation_accuracy"),
    ("first statement p50 (s)", "first_statement_s_p50"),
    ("tokens per second", "tokens_per_second"),
)


class AdapterEventInline(admin.TabularInline):
    model = AdapterEvent
    fields = ["at", "action", "actor", "details"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AdapterVersion)
class AdapterVersionAdmin(admin.ModelAdmin):
    """Adapter versions with their metrics and loss curve. Every move (approve, activate, roll
    back, retire) goes through apps.adapters.services, which checks the permission, keeps the
    database's rules and records the event."""

    list_display = [
        "name",
        "version",
        "status",
        "domains",
        "gold_evidence",
        "abstention",
        "final_loss",
        "registered_by",
        "approved_by",
        "activated_at",
    ]
    list_filter = ["status", "name"]
    search_fields = ["name", "notes"]
    list_select_related = ["registered_by", "approved_by"]
    fields = [
        "name",
        "version",
        "status",
        "domains",
        "metrics",
        "loss_curve",
        "training",
        "notes",
        "base_model",
        "base_model_sha256",
        "sha256",
        "path",
        *(f"{step}_{what}" for step in STEPS for what in ("by", "at")),
        "retired_at",
    ]
    readonly_fields = [name for name in fields if name != "notes"]
    inlines = [AdapterEventInline]
    actions = ["approve", "activate", "rollback", "retire"]

    def has_add_permission(self, request) -> bool:
        return False  # registered from a training run's folder: manage.py register_adapter

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("adapters.approve_adapterversion")

    def has_activate_permission(self, request) -> bool:
        return request.user.has_perm("adapters.activate_adapterversion")

    @admin.display(description="gold evidence")
    def gold_evidence(self, version: AdapterVersion):
        return candidate_metric(version, "answered_with_gold")

    @admin.display(description="abstention")
    def abstention(self, version: AdapterVersion):
        return candidate_metric(version, "abstention_unanswerable")

    @admin.display(description="final loss")
    def final_loss(self, version: AdapterVersion):
        return version.training_manifest.get("final_loss")

    @admin.display(description="evaluation")
    def metrics(self, version: AdapterVersion) -> str:
        return metrics_table(version.evaluation)

    @admin.display(description="loss curve")
    def loss_curve(self, version: AdapterVersion) -> str:
        return loss_svg(version.training_manifest.get("loss_curve") or [])

    @admin.display(description="training")
    def training(self, version: AdapterVersion) -> str:
        manifest = version.training_manifest
        config = manifest.get("config", {})
        memory = manifest.get("peak_memory", {}).get("peak_rss")
        return format_html(
            "{} on {}, {} steps, r={}, lr {}, {} examples; {} s, {} tokens/s, peak RSS {} MiB; "
            "dataset {}",
            config.get("method", "?"),
            manifest.get("device", "?"),
            manifest.get("steps", "?"),
            config.get("lora_r", "?"),
            config.get("learning_rate", "?"),
            manifest.get("examples", "?"),
            manifest.get("wall_time_s", "?"),
            manifest.get("tokens_per_second", "?"),
            round(memory / 2**20) if memory else "?",
            (manifest.get("dataset_sha256") or "?")[:16],
        )

    @admin.action(description="Approve the selected evaluated versions", permissions=["approve"])
    def approve(self, request, queryset):
        self.each(
            request, queryset, lambda v: services.adapter_approve(version=v, user=request.user)
        )

    @admin.action(description="Activate the selected approved versions", permissions=["activate"])
    def activate(self, request, queryset):
        self.each(
            request, queryset, lambda v: services.adapter_activate(version=v, user=request.user)
        )

    @admin.action(
        description="Roll back to the version active before (by name)", permissions=["activate"]
    )
    def rollback(self, request, queryset):
        names = sorted(set(queryset.values_list("name", flat=True)))
        for name in names:
            self.report(
                request, lambda n=name: services.adapter_rollback(name=n, user=request.user)
            )

    @admin.action(description="Retire the selected versions", permissions=["activate"])
    def retire(self, request, queryset):
        self.each(
            request, queryset, lambda v: services.adapter_retire(version=v, user=request.user)
        )

    def each(self, request, queryset, act) -> None:
        for version in queryset.order_by("name", "version"):
            self.report(request, lambda v=version: act(v))

    def report(self, request, act) -> None:
        try:
            version = act()
        except (services.AdapterError, PermissionDenied) as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, f"{version} is {version.get_status_display().lower()}")


def candidate_metric(version: AdapterVersion, key: str):
    return (version.evaluation.get("arms", {}).get("candidate") or {}).get(key)


def metrics_table(evaluation: dict) -> str:
    arms = evaluation.get("arms") or {}
    if not arms:
        return "not evaluated"
    gate = evaluation.get("gate", {})
    verdict = "passed" if gate.get("passed") else "failed: " + "; ".join(gate.get("reasons", []))
    header = format_html_join("", "<th>{}</th>", ((arm,) for arm in arms))
    rows = format_html_join(
        "",
        "<tr><td>{}</td>{}</tr>",
        (
            (label, format_html_join("", "<td>{}</td>", ((arms[a].get(key),) for a in arms)))
            for label, key in METRICS
        ),
    )
    return format_html(
        '<p class="gate">gate against the {}: {}</p><table class="metrics"><tr><th></th>{}</tr>'
        "{}</table>",
        gate.get("against", "?"),
        verdict,
        header,
        rows,
    )


def loss_svg(curve: list[dict], width: int = 400, height: int = 120) -> str:
    """The loss by step as an inline SVG line, with its first and last values."""
    if len(curve) < 2:
        return "no loss curve"
    steps = [point["step"] for point in curve]
    losses = [point["loss"] for point in curve]
    low, high = min(losses), max(losses) or 1.0
    span_x, span_y = (max(steps) - min(steps)) or 1, (high - low) or 1.0
    points = " ".join(
        f"{(s - min(steps)) / span_x * width:.1f},{height - (v - low) / span_y * height:.1f}"
        for s, v in zip(steps, losses, strict=True)
    )
    return format_html(
        '<svg class="loss-curve" width="{}" height="{}" viewBox="0 0 {} {}">'
        '<polyline fill="none" stroke="#417690" stroke-width="2" points="{}"/></svg>'
        "<div>step {}: {} → step {}: {}</div>",
        width,
        height,
        width,
        height,
        points,
        steps[0],
        losses[0],
        steps[-1],
        losses[-1],
    )
