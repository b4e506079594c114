from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.corpora.models import IngestionJob
from apps.corpora.selectors import ingestion_jobs_visible_to

DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
ERRORS = {
    403: OpenApiResponse(DETAIL, description="not signed in"),
    429: OpenApiResponse(DETAIL, description="over the rate limit; Retry-After says how long"),
}
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[429],
    description="seconds until a request may be sent again",
)


class IngestionJobDetailApi(APIView):
    @extend_schema_serializer(component_name="IngestionJob")
    class OutputSerializer(serializers.ModelSerializer):
        corpus = serializers.SlugRelatedField(slug_field="slug", read_only=True)
        progress_percent = serializers.IntegerField(read_only=True)
        paths = serializers.ListField(child=serializers.CharField(), read_only=True)
        errors = serializers.ListField(
            child=serializers.CharField(), read_only=True, help_text="one message per bad file"
        )
        seconds_by_stage = serializers.DictField(
            child=serializers.FloatField(), read_only=True, help_text="parse, chunk, embed, write"
        )

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
                "seconds_by_stage",
                "paths",
                "created_at",
                "started_at",
                "finished_at",
            ]
            read_only_fields = fields

    @extend_schema(
        operation_id="ingestion_job",
        summary="One ingestion job's progress, counts and errors (corpus admins)",
        responses={
            200: OutputSerializer,
            **ERRORS,
            404: OpenApiResponse(DETAIL, description="no such job that you may see"),
        },
        parameters=[RETRY_AFTER],
    )
    def get(self, request, job_id: int):
        job = get_object_or_404(ingestion_jobs_visible_to(request.user), pk=job_id)
        return Response(self.OutputSerializer(job).data)


class IngestionJobListApi(APIView):
    @extend_schema(
        operation_id="ingestion_jobs",
        summary="The 50 latest ingestion jobs (corpus admins; empty for anyone else)",
        responses={
            200: IngestionJobDetailApi.OutputSerializer(many=True),
            **ERRORS,
        },
        parameters=[RETRY_AFTER],
    )
    def get(self, request):
        jobs = ingestion_jobs_visible_to(request.user)[:50]
        return Response(IngestionJobDetailApi.OutputSerializer(jobs, many=True).data)
