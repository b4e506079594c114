from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "apps.assistant"
    label = "assistant"

    def ready(self) -> None:
        from apps.assistant.models import Answer
        from apps.audit import records

        records.register(Answer, action="answer.recorded")
