from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from apps.assistant.citations import REASONS
from apps.assistant.models import Answer
from apps.audit.admin import ReadsRecorded


@admin.register(Answer)
class AnswerAdmin(ReadsRecorded, admin.ModelAdmin):
    """Answers are records: readable by auditors and admins, never edited."""

    list_display = ["id", "created_at", "asker", "short_question", "status", "shown", "backend"]
    list_filter = ["status", "backend", "created_at"]
    search_fields = ["question", "asker__username"]
    list_select_related = ["asker"]
    readonly_fields = [f.name for f in Answer._meta.fields] + ["statement_verdicts"]
    exclude = ["statements"]

    # Passages, the prompt that holds them and the generated text are for superusers here;
    # auditors read an answer on the review page, which shows exactly the cited passages and
    # records each reading.
    TEXT_FIELDS = ("hits", "prompt", "raw_output", "statement_verdicts")

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return [name for name in fields if name not in self.TEXT_FIELDS] + ["review_link"]

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        return exclude if request.user.is_superuser else exclude + list(self.TEXT_FIELDS)

    @admin.display(description="review")
    def review_link(self, answer: Answer) -> str:
        return format_html('<a href="/review/answers/{}/">Open on the review page</a>', answer.pk)

    @admin.display(description="question")
    def short_question(self, answer: Answer) -> str:
        return answer.question[:80]

    @admin.display(description="shown / generated")
    def shown(self, answer: Answer) -> str:
        return f"{len(answer.shown_statements)} / {len(answer.statements)}"

    @admin.display(description="statements and verdicts")
    def statement_verdicts(self, answer: Answer) -> str:
        if not answer.statements:
            return "none"
        rows = (
            (
                "shown" if s["shown"] else "dropped",
                s["text"],
                ", ".join(f"[{n}]" for n in s["citations"]) or "none",
                REASONS.get(s["reason"], s["reason"]),
            )
            for s in answer.statements
        )
        return format_html(
            "<table><tr><th>outcome</th><th>statement</th><th>cites</th><th>verdict</th></tr>"
            "{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
