from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("apps.portal.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("apps.corpora.urls")),
    path("api/v1/", include("apps.retrieval.urls")),
    path("api/v1/", include("apps.assistant.urls")),
]
