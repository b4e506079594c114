from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("apps.corpora.urls")),
    path("api/v1/", include("apps.retrieval.urls")),
    path("api/v1/", include("apps.assistant.urls")),
]
