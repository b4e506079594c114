from __future__ import annotations

import pytest
from django.db import transaction

from apps.audit.services import record_event, record_seal

PASSAGE = "Records of customer due diligence must be kept for at least six years."


def answer_with(
    asker, *, corpus="a", backend="extractive", status="answered", citations=2, adapter=""
):
    """A recorded answer (written as answer_record writes one) with one shown statement
    citing `citations` sources and one dropped statement citing source 1."""
    from apps.assistant.models import Answer

    hits = [
        {
            "number": n,
            "label": f"AML 3.1.{n}",
            "chunk_id": 100 + n,
            "corpus": corpus,
            "document_id": 1,
            "char_start": 0,
            "char_end": len(PASSAGE),
            "content_hash": f"h{n}",
            "text": PASSAGE,
        }
        for n in range(1, citations + 2)
    ]
    verdict = {"supported": True, "reason": "supported", "score": 0.9}
    statements = [
        {
            "text": "Records are kept for six years.",
            "citations": list(range(1, citations + 1)),
            "quote": "at least six years",
            "shown": True,
            "reason": "supported",
            "verdicts": [{**verdict, "source": n} for n in range(1, citations + 1)],
        },
        {
            "text": "Records are kept for one year.",
            "citations": [1],
            "quote": None,
            "shown": False,
            "reason": "number_mismatch",
            "verdicts": [{**verdict, "source": 1, "supported": False, "reason": "number_mismatch"}],
        },
    ]
    with transaction.atomic():
        answer = Answer(
            asker=asker,
            question="How long are CDD records kept?",
            corpora=[corpus],
            hits=hits,
            backend=backend,
            adapter=adapter,
            statements=statements,
            status=status,
        )
        record_seal(record=answer)
        answer.save(force_insert=True)
        record_event(record=answer, actor=asker)
    return answer


def all_labels(answer, label="correct", overrides: dict | None = None):
    """A label for every citation of `answer`; overrides: {(statement, source): label}."""
    overrides = overrides or {}
    from apps.review.selectors import citations_of

    return [
        {"statement": s, "source": n, "label": overrides.get((s, n), label)}
        for s, n in citations_of(answer)
    ]


@pytest.fixture
def dave(django_user_model):
    """A second auditor, for double reviews."""
    from apps.accounts.models import Role
    from apps.accounts.services import role_assign

    user = django_user_model.objects.create_user("dave", password="dave-pw")
    role_assign(user=user, role=Role.AUDITOR)
    return user
