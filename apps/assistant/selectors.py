from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.selectors import readable_corpora
from apps.assistant.models import Answer

REVOKED = "your access to the corpus {corpus} has been revoked"
NOT_CITED = "auditors read only the passages an answer cites"


def visible_answers(user) -> QuerySet[Answer]:
    """Answers `user` may see: their own, or all of them for auditors and admins."""
    if user.has_perm("assistant.view_answer"):
        return Answer.objects.all()
    return Answer.objects.filter(asker=user)


def may_review(user) -> bool:
    return user.is_active and user.has_perm("assistant.view_answer")


def cited_sources(answer: Answer) -> set[int]:
    """The numbers of the sources any statement cites, shown or dropped."""
    return {number for statement in answer.statements for number in statement["citations"]}


def answer_withheld(user, answer: Answer) -> dict[int, str]:
    """The sources of `answer` whose text `user` may not read, each with the reason.

    The asker reads a passage only while they may still read its corpus; an auditor reads
    exactly the passages the answer cites; a superuser reads everything.
    """
    if user.is_superuser:
        return {}
    hits = answer.hits
    if answer.asker_id == user.pk:
        readable = set(readable_corpora(user).values_list("slug", flat=True))
        withheld = {
            hit["number"]: REVOKED.format(corpus=hit["corpus"])
            for hit in hits
            if hit["corpus"] not in readable
        }
    else:
        withheld = {hit["number"]: NOT_CITED for hit in hits}
    if may_review(user):
        for number in cited_sources(answer):
            withheld.pop(number, None)
    return withheld
