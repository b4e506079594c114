from __future__ import annotations

from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.retrieval.filters import Filters
from apps.retrieval.presenters import hit_as_dict
from apps.retrieval.search import LEGS, MAX_K, RetrievalError, RetrievalOptions, retrieve_traced
from apps.retrieval.selectors import NotReadable, check_documents_readable, searchable_corpora
from apps.retrieval.tuned_fusion import METHODS


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


class SearchApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(StrictKeys, serializers.Serializer):
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

    class OutputSerializer(serializers.Serializer):
        query = serializers.CharField()
        k = serializers.IntegerField()
        fusion = serializers.SerializerMethodField()
        hits = serializers.SerializerMethodField()

        def get_fusion(self, result) -> dict:
            return result["retrieval"].trace.fusion.as_dict()

        def get_hits(self, result) -> list[dict]:
            return [hit_as_dict(hit) for hit in result["retrieval"].hits]

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
        return Response(self.OutputSerializer({**data, "retrieval": retrieval}).data)
