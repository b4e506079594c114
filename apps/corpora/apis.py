from __future__ import annotations

from django.shortcuts import get_object_or_404
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.corpora.models import IngestionJob
from apps.corpora.selectors import ingestion_jobs_visible_to


class IngestionJobDetailApi(APIView):
    class OutputSerializer(serializers.ModelSerializer):
        corpus = serializers.SlugRelatedField(slug_field="slug", read_only=True)
        progress_percent = serializers.IntegerField(read_only=True)

        class Meta:
            model = IngestionJob
            fields = [
                "id",
                "corpus",
                "status",
                "stage",
                "progress_done",
                "progress_total",
                "progress_percent",
                "documents_created",
                "documents_updated",
                "documents_unchanged",
                "chunks_written",
                "chunks_embedded",
                "chunks_reused",
                "errors",
                "paths",
                "created_at",
                "started_at",
                "finished_at",
            ]

    def get(self, request, job_id: int):
        job = get_object_or_404(ingestion_jobs_visible_to(request.user), pk=job_id)
        return Response(self.OutputSerializer(job).data)


class IngestionJobListApi(APIView):
    def get(self, request):
        jobs = ingestion_jobs_visible_to(request.user)[:50]
        return Response(IngestionJobDetailApi.OutputSerializer(jobs, many=True).data)
