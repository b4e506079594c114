from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.assistant.answering import Answering
from apps.assistant.conflicts import KINDS
from apps.assistant.generators.base import GeneratorError, UnknownAdapter
from apps.assistant.models import AnswerStatus
from apps.assistant.presenters import answer_as_dict
from apps.assistant.selectors import answer_withheld, visible_answers
from apps.assistant.services import AnswerError, answer_start, answer_view_record
from apps.retrieval.apis import (
    DETAIL,
    ERRORS,
    JSON_PARSERS,
    RETRY_AFTER,
    THROTTLED,
    SearchApi,
    StrictKeys,
)
from apps.retrieval.selectors import NotReadable

logger = logging.getLogger(__name__)


class GeneratorUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "generator_unavailable"


@extend_schema_serializer(component_name="GeneratorUnavailable")
class GeneratorUnavailableSerializer(serializers.Serializer):
    detail = serializers.CharField()


# The parts of an answer, as apps.assistant.presenters.answer_as_dict writes them.
class DocumentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    version = serializers.IntegerField()


class VerdictSerializer(serializers.Serializer):
    supported = serializers.BooleanField()
    reason = serializers.CharField(help_text="a reason code, `supported` when it holds")
    explanation = serializers.CharField()
    score = serializers.FloatField(allow_null=True)


class CitationSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="the cited source's number in `sources`")
    label = serializers.CharField()
    corpus = serializers.CharField()
    document = DocumentRefSerializer()
    char_start = serializers.IntegerField(help_text="the cited characters in the document")
    char_end = serializers.IntegerField()
    excerpt = serializers.CharField(allow_blank=True)
    verdict = VerdictSerializer()


class StatementSerializer(serializers.Serializer):
    text = serializers.CharField()
    citations = CitationSerializer(many=True)


class AbstainSerializer(serializers.Serializer):
    reason = serializers.CharField()


class ConflictSerializer(serializers.Serializer):
    class SideSerializer(serializers.Serializer):
        class DatedDocumentSerializer(DocumentRefSerializer):
            date = serializers.DateField(allow_null=True)

        values = serializers.ListField(child=serializers.CharField())
        statement = serializers.CharField()
        source = serializers.IntegerField()
        label = serializers.CharField()
        document = DatedDocumentSerializer()

    kind = serializers.ChoiceField(choices=sorted(KINDS.values()))
    sides = SideSerializer(many=True)
    current = serializers.IntegerField(
        allow_null=True, help_text="the source of the most recently dated document, if known"
    )


class DroppedSerializer(serializers.Serializer):
    reason = serializers.CharField()
    explanation = serializers.CharField()
    citations = serializers.ListField(child=serializers.IntegerField())


class SourceSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    label = serializers.CharField()
    corpus = serializers.CharField()
    document = DocumentRefSerializer()
    heading_path = serializers.ListField(child=serializers.CharField())
    char_start = serializers.IntegerField()
    char_end = serializers.IntegerField()
    page_start = serializers.IntegerField(allow_null=True)
    page_end = serializers.IntegerField(allow_null=True)
    excerpt = serializers.CharField(allow_blank=True)


# An answer is sent as answer_as_dict writes it, as its stream's events are; AnswerSerializer
# describes it for the schema, and a test holds the two equal.
@extend_schema_serializer(component_name="Answer")
class AnswerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    question = serializers.CharField()
    status = serializers.ChoiceField(choices=AnswerStatus.choices)
    corpora = serializers.ListField(child=serializers.CharField())
    statements = StatementSerializer(many=True, help_text="shown statements only")
    abstain = AbstainSerializer(allow_null=True)
    conflict = ConflictSerializer(
        allow_null=True, help_text="set when the status is conflicting: each side with its source"
    )
    dropped = DroppedSerializer(many=True, help_text="statements not shown, and why")
    sources = SourceSerializer(many=True)
    backend = serializers.CharField()
    model = serializers.CharField(allow_blank=True)
    adapter = serializers.CharField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    timings = serializers.DictField(child=serializers.FloatField(), help_text="seconds by stage")
    created_at = serializers.DateTimeField()


def event(name: str, data: dict) -> dict:
    """One server-sent event: its name, and its data as JSON of the given schema."""
    json_of = {"type": "string", "contentMediaType": "application/json", "contentSchema": data}
    return {
        "type": "object",
        "properties": {"event": {"const": name}, "data": json_of},
        "required": ["event", "data"],
    }


def obj(**properties: dict) -> dict:
    return {"type": "object", "properties": properties, "required": list(properties)}


INTEGER, STRING = {"type": "integer"}, {"type": "string"}
SOURCE_SUMMARY = obj(
    number=INTEGER,
    label=STRING,
    corpus=STRING,
    document_id=INTEGER,
    char_start=INTEGER,
    char_end=INTEGER,
)
EVENT = {
    "oneOf": [
        event("stage", obj(stage={"enum": ["retrieving", "generating"]})),
        event("sources", obj(sources={"type": "array", "items": SOURCE_SUMMARY})),
        event("statement", {"$ref": "#/components/schemas/Statement"}),
        event("done", {"$ref": "#/components/schemas/Answer"}),
        event("error", obj(message=STRING)),
    ]
}
EVENTS = """With `stream: true`: server-sent events, each `event: NAME` and `data: JSON`. `stage`
names the stage begun, `sources` lists the passages found, each `statement` is a Statement shown
as soon as it is checked, and the last is `done` with the Answer as recorded, or `error`."""


class AnswerCreateApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = JSON_PARSERS

    @extend_schema_serializer(component_name="Question")
    class InputSerializer(StrictKeys, serializers.Serializer):
        question = serializers.CharField(trim_whitespace=False, allow_blank=True)
        corpora = serializers.ListField(
            child=serializers.CharField(), required=False, allow_empty=False
        )
        filters = SearchApi.InputSerializer.FiltersSerializer(required=False, default=None)
        adapter = serializers.CharField(required=False, allow_null=True, default=None)
        stream = serializers.BooleanField(default=False)

    @extend_schema(
        operation_id="answer",
        summary="Ask a question; every shown statement cites passages that were checked",
        request=InputSerializer,
        parameters=[RETRY_AFTER],
        responses={
            (201, "application/json"): OpenApiResponse(AnswerSerializer, description="recorded"),
            (200, "text/event-stream"): OpenApiResponse(EVENT, description=EVENTS),
            **ERRORS,
            503: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="AnswerFailed",
                    serializers=[AnswerSerializer, GeneratorUnavailableSerializer],
                    resource_type_field_name=None,
                ),
                description="the generator failed: the failed answer as recorded, or why the "
                "generator could not start",
            ),
        },
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            answering = answer_start(
                user=request.user,
                question=data["question"],
                corpora=data.get("corpora"),
                filters=data["filters"],
                adapter=data["adapter"],
            )
        except (AnswerError, UnknownAdapter) as exc:
            raise ValidationError({"detail": str(exc)}) from None
        except NotReadable as exc:
            raise NotFound(str(exc)) from None
        except GeneratorError as exc:
            raise GeneratorUnavailable(str(exc)) from None
        if data["stream"]:
            return event_stream(answering)
        for _ in answering.events():
            pass
        body = answer_as_dict(answering.answer)
        if answering.answer.status == AnswerStatus.FAILED:
            return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(body, status=status.HTTP_201_CREATED)


def event_stream(answering: Answering) -> StreamingHttpResponse:
    response = StreamingHttpResponse(sse(answering.events()), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # let nginx pass events through as they happen
    return response


def sse(events: Iterator[tuple[str, dict]]) -> Iterator[bytes]:
    try:
        for name, data in events:
            yield f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
    except Exception:
        # The status line is sent already: tell the page rather than end the stream silently.
        logger.exception("answer stream failed")
        yield b'event: error\ndata: {"message": "the answer failed; it was recorded"}\n\n'


class AnswerDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="answer_detail",
        summary="A recorded answer (its asker, auditors and admins)",
        parameters=[RETRY_AFTER],
        responses={
            200: AnswerSerializer,
            403: ERRORS[403],
            404: OpenApiResponse(DETAIL, description="no answer that you may see"),
            429: THROTTLED,
        },
    )
    def get(self, request, answer_id: int):
        answer = visible_answers(request.user).filter(pk=answer_id).first()
        if answer is None:
            raise NotFound(f"no answer {answer_id} that you may see")
        withheld = answer_withheld(request.user, answer)
        answer_view_record(viewer=request.user, answer=answer, withheld=withheld)
        return Response(answer_as_dict(answer, withheld))
