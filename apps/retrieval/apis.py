from __future__ import annotations

from collections.abc import Mapping

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from apps.retrieval.filters import Filters
from apps.retrieval.presenters import hit_as_dict
from apps.retrieval.search import LEGS, MAX_K, RetrievalError, RetrievalOptions, retrieve_traced
from apps.retrieval.selectors import NotReadable, check_documents_readable, searchable_corpora
from apps.retrieval.services import search_record
from apps.retrieval.tuned_fusion import METHODS, MIXED


class StrictKeys:
    # An unknown key is refused rather than ignored: a misspelt filter or "corpus" for
    # "corpora" would otherwise quietly widen the search.
    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            allowed = ", ".join(self.fields)
            unknown = {
                key: f"unknown key {key!r}; allowed: {allowed}"
                for key in data
                if key not in self.fields
            }
            if unknown:
                raise ValidationError(unknown)
        return super().to_internal_value(data)


class StrictKeysSchema(OpenApiSerializerExtension):
    """The schema says what StrictKeys enforces: no key beyond those named."""

    target_class = StrictKeys
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}


# Error bodies, as DRF writes them.
DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
INVALID = {
    "type": "object",
    "description": "each invalid field with its messages, or `detail` with one message",
    "additionalProperties": True,
}
FUSION_PLAN_METHODS = (*METHODS, MIXED)

# The APIs take JSON only, through the project's own JSON parser.
JSON_PARSERS = [
    p for p in api_settings.DEFAULT_PARSER_CLASSES if p.media_type == "application/json"
]

THROTTLED = OpenApiResponse(DETAIL, description="over the rate limit; Retry-After says how long")
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[429],
    description="seconds until a request may be sent again",
)
ERRORS = {
    400: OpenApiResponse(INVALID, description="invalid input"),
    403: OpenApiResponse(DETAIL, description="not signed in"),
    404: OpenApiResponse(DETAIL, description="an unknown or unreadable corpus or document"),
    413: OpenApiResponse(DETAIL, description="a body over the size limit"),
    429: THROTTLED,
}


class SearchApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = JSON_PARSERS

    @extend_schema_serializer(component_name="Search")
    class InputSerializer(StrictKeys, serializers.Serializer):
        @extend_schema_serializer(component_name="Filters")
        class FiltersSerializer(StrictKeys, serializers.Serializer):
            documents = serializers.ListField(child=serializers.CharField(), required=False)
            doc_types = serializers.ListField(child=serializers.CharField(), required=False)
            jurisdictions = serializers.ListField(child=serializers.CharField(), required=False)
            date_from = serializers.DateField(required=False)
            date_to = serializers.DateField(required=False)

            def validate(self, attrs) -> Filters:
                date_from, date_to = attrs.get("date_from"), attrs.get("date_to")
                if date_from and date_to and date_from > date_to:
                    raise ValidationError(f"date_from {date_from} is after date_to {date_to}")
                return Filters(
                    **{key: tuple(v) if isinstance(v, list) else v for key, v in attrs.items()}
                )

        @extend_schema_serializer(component_name="LegWeights")
        class WeightsSerializer(StrictKeys, serializers.Serializer):
            vector = serializers.FloatField(min_value=0, required=False)
            bm25 = serializers.FloatField(min_value=0, required=False)

        query = serializers.CharField()
        corpora = serializers.ListField(
            child=serializers.CharField(), required=False, allow_empty=False
        )
        filters = FiltersSerializer(required=False, default=Filters())
        k = serializers.IntegerField(default=10, min_value=1, max_value=MAX_K)
        legs = serializers.ListField(
            child=serializers.ChoiceField(choices=LEGS), default=LEGS, allow_empty=False
        )
        # Neither fusion nor weights: each searched domain's tuned fusion. A leg left out of
        # the weights weighs 1.
        fusion = serializers.ChoiceField(choices=METHODS, required=False)
        weights = WeightsSerializer(required=False)

    # The result is sent as hit_as_dict and the fusion plan write it; OutputSerializer
    # describes it for the schema, and a test holds the two equal.
    @extend_schema_serializer(component_name="SearchResult")
    class OutputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="Fusion")
        class FusionSerializer(serializers.Serializer):
            @extend_schema_serializer(component_name="FusionChoice")
            class ChoiceSerializer(serializers.Serializer):
                method = serializers.ChoiceField(choices=METHODS)
                leg_weights = serializers.DictField(child=serializers.FloatField())

            method = serializers.ChoiceField(
                choices=FUSION_PLAN_METHODS,
                help_text=f"{MIXED!r} when the searched domains' fusions differ",
            )
            leg_weights = serializers.DictField(child=serializers.FloatField(), required=False)
            domains = serializers.DictField(
                child=ChoiceSerializer(), required=False, help_text=f"each domain's, when {MIXED}"
            )

        @extend_schema_serializer(component_name="SearchHit")
        class HitSerializer(serializers.Serializer):
            @extend_schema_serializer(component_name="HitDocument")
            class DocumentSerializer(serializers.Serializer):
                id = serializers.IntegerField()
                external_id = serializers.CharField()
                version = serializers.IntegerField()
                citation_label = serializers.CharField()
                title = serializers.CharField()

            @extend_schema_serializer(component_name="HitScores")
            class ScoresSerializer(serializers.Serializer):
                @extend_schema_serializer(component_name="LegScore")
                class LegScoreSerializer(serializers.Serializer):
                    score = serializers.FloatField()
                    rank = serializers.IntegerField()

                vector = LegScoreSerializer(allow_null=True, help_text="null: not found by it")
                bm25 = LegScoreSerializer(allow_null=True, help_text="null: not found by it")
                fused = LegScoreSerializer()
                rerank = serializers.FloatField(allow_null=True)

            chunk_id = serializers.IntegerField()
            corpus = serializers.CharField()
            document = DocumentSerializer()
            heading_path = serializers.ListField(child=serializers.CharField())
            text = serializers.CharField()
            char_start = serializers.IntegerField()
            char_end = serializers.IntegerField()
            page_start = serializers.IntegerField(allow_null=True)
            page_end = serializers.IntegerField(allow_null=True)
            content_hash = serializers.CharField()
            scores = ScoresSerializer()

        query = serializers.CharField()
        k = serializers.IntegerField()
        fusion = FusionSerializer()
        hits = HitSerializer(many=True)

    @extend_schema(
        operation_id="search",
        summary="Search the corpora you may read",
        request=InputSerializer,
        parameters=[RETRY_AFTER],
        responses={200: OutputSerializer, **ERRORS},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            corpora = searchable_corpora(request.user, data.get("corpora"))
            check_documents_readable(corpora, data["filters"].documents)
        except NotReadable as exc:
            raise NotFound(str(exc)) from None
        options = RetrievalOptions(
            legs=tuple(dict.fromkeys(data["legs"])),
            fusion=data.get("fusion"),
            leg_weights=data.get("weights"),
        )
        try:
            retrieval = retrieve_traced(data["query"], corpora, data["filters"], data["k"], options)
        except RetrievalError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        search_record(user=request.user, query=data["query"], corpora=corpora, hits=retrieval.hits)
        result = {
            "query": data["query"],
            "k": data["k"],
            "fusion": retrieval.trace.fusion.as_dict(),
            "hits": [hit_as_dict(hit) for hit in retrieval.hits],
        }
        return Response(result)
