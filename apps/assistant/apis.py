from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.assistant.answering import Answering
from apps.assistant.generators.base import GeneratorError, UnknownAdapter
from apps.assistant.models import AnswerStatus
from apps.assistant.presenters import answer_as_dict
from apps.assistant.selectors import visible_answers
from apps.assistant.services import AnswerError, answer_start
from apps.retrieval.apis import SearchApi, StrictKeys
from apps.retrieval.selectors import NotReadable

logger = logging.getLogger(__name__)


class GeneratorUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "generator_unavailable"


class AnswerCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(StrictKeys, serializers.Serializer):
        question = serializers.CharField(trim_whitespace=False, allow_blank=True)
        corpora = serializers.ListField(
            child=serializers.CharField(), required=False, allow_empty=False
        )
        filters = SearchApi.InputSerializer.FiltersSerializer(required=False, default=None)
        adapter = serializers.CharField(required=False, allow_null=True, default=None)
        stream = serializers.BooleanField(default=False)

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

    def get(self, request, answer_id: int):
        answer = visible_answers(request.user).filter(pk=answer_id).first()
        if answer is None:
            raise NotFound(f"no answer {answer_id} that you may see")
        return Response(answer_as_dict(answer))
