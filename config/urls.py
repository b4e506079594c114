from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("", include("apps.portal.urls")),
    path("review/", include("apps.review.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("apps.corpora.urls")),
    path("api/v1/", include("apps.retrieval.urls")),
    path("api/v1/", include("apps.assistant.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/v1/schema/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema"),
        name="schema-docs",
    ),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
