from django.contrib import admin

from apps.accounts.models import CorpusAccess


@admin.register(CorpusAccess)
class CorpusAccessAdmin(admin.ModelAdmin):
    list_display = ["corpus", "user", "group", "granted_at"]
    list_filter = ["corpus", "group"]
    autocomplete_fields = ["user"]
    search_fields = ["user__username", "group__name", "corpus__slug"]
