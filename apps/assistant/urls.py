from django.urls import path

from apps.assistant import apis

urlpatterns = [
    path("answers", apis.AnswerCreateApi.as_view(), name="answer-create"),
    path("answers/<int:answer_id>", apis.AnswerDetailApi.as_view(), name="answer-detail"),
]
