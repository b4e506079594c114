from django.urls import path

from apps.corpora import apis

urlpatterns = [
    path("ingestion-jobs/", apis.IngestionJobListApi.as_view(), name="ingestion-job-list"),
    path(
        "ingestion-jobs/<int:job_id>/",
        apis.IngestionJobDetailApi.as_view(),
        name="ingestion-job-detail",
    ),
]
