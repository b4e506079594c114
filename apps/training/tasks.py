from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django_tasks import task

from apps.adapters.models import AdapterVersion
from apps.training.gate import adapter_evaluate, default_question_files


@task()
def evaluate_adapter(version_id: int, user_id: int, limit: int | None = None) -> dict:
    """The evaluation gate on the shared development sets, run by a worker (it takes minutes
    on a GPU, longer on a CPU); the result lands on the version."""
    version = AdapterVersion.objects.get(pk=version_id)
    user = get_user_model().objects.get(pk=user_id)
    files = default_question_files(settings.SHARED_DATA_DIR)
    report = adapter_evaluate(version=version, user=user, questions=files, limit=limit)
    return {"version": version_id, "passed": report["gate"]["passed"]}
