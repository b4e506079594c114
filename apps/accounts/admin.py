from __future__ import annotations

from django.contrib import admin

from apps.accounts.models import CorpusAccess
from apps.accounts.selectors import readable_corpora
from apps.accounts.services import corpus_access_grant, corpus_access_revoke
from apps.audit.admin import ReadsRecorded
from apps.corpora.admin import ChunkAdmin, DocumentAdmin
from apps.corpora.models import Chunk, Document


@admin.register(CorpusAccess)
class CorpusAccessAdmin(admin.ModelAdmin):
    """Grants are given and revoked through the services, so that each leaves its event."""

    list_display = ["corpus", "user", "group", "granted_at"]
    list_filter = ["corpus", "group"]
    autocomplete_fields = ["user"]
    search_fields = ["user__username", "group__name", "corpus__slug"]

    def save_model(self, request, obj, form, change):
        if change:  # a grant is revoked and given anew, never edited in place
            old = CorpusAccess.objects.get(pk=obj.pk)
            corpus_access_revoke(
                corpus=old.corpus, user=old.user, group=old.group, actor=request.user
            )
            obj.pk = None
        grant = corpus_access_grant(
            corpus=obj.corpus, user=obj.user, group=obj.group, actor=request.user
        )
        obj.pk, obj.granted_at = grant.pk, grant.granted_at

    def delete_model(self, request, obj):
        corpus_access_revoke(corpus=obj.corpus, user=obj.user, group=obj.group, actor=request.user)

    def delete_queryset(self, request, queryset):
        for grant in queryset.select_related("corpus", "user", "group"):
            self.delete_model(request, grant)


# The corpora's admin pages follow corpus grants for everyone but superusers: a corpus admin
# sees the documents and chunks of the corpora granted to them, and no one reads a corpus
# through the admin without a grant.
class GrantedMixin(ReadsRecorded):
    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        return rows.filter(corpus__in=readable_corpora(request.user))


admin.site.unregister(Document)
admin.site.unregister(Chunk)


@admin.register(Document)
class GrantedDocumentAdmin(GrantedMixin, DocumentAdmin):
    pass


@admin.register(Chunk)
class GrantedChunkAdmin(GrantedMixin, ChunkAdmin):
    pass
