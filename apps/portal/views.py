"""The pages: ask a question of the corpora one may read, and read a cited document."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from apps.accounts.selectors import readable_corpora
from apps.corpora.models import Document


@login_required
def ask(request):
    return render(request, "portal/ask.html", {"corpora": readable_corpora(request.user)})


@login_required
def document(request, document_id: int):
    """A document in a corpus the reader may read, with the cited characters [start, end)
    marked; a span that is missing or does not fit the text leaves the text unmarked."""
    readable = Document.objects.select_related("corpus").filter(
        corpus__in=readable_corpora(request.user)
    )
    found = get_object_or_404(readable, pk=document_id)
    span = cited_span(found.text, request.GET.get("start"), request.GET.get("end"))
    context = {"document": found, "span_requested": "start" in request.GET or "end" in request.GET}
    if span:
        start, end = span
        context.update(
            before=found.text[:start], cited=found.text[start:end], after=found.text[end:]
        )
    return render(request, "portal/document.html", context)


def cited_span(text: str, start: str | None, end: str | None) -> tuple[int, int] | None:
    try:
        span = int(start), int(end)
    except (TypeError, ValueError):
        return None
    return span if 0 <= span[0] < span[1] <= len(text) else None
