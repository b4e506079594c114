"""The pages: ask a question of the corpora one may read, and read a cited document."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from apps.accounts.selectors import readable_corpora
from apps.assistant.selectors import cited_sources, may_review, visible_answers
from apps.corpora.models import Document
from apps.portal.services import citation_view_record, document_view_record


@login_required
def ask(request):
    corpora = readable_corpora(request.user)
    # An auditor reads no corpus: their work starts at the review queue, not at a dead end.
    if request.user.has_perm("review.add_review") and not corpora.exists():
        return redirect("review-queue")
    return render(request, "portal/ask.html", {"corpora": corpora})


@login_required
def document(request, document_id: int):
    """A document in a corpus the reader may read, with the cited characters [start, end)
    marked; a span that is missing or does not fit the text leaves the text unmarked.

    An auditor, who reads no corpus, opens only a passage that an answer cited
    (`?answer=ID&start=&end=`), and nothing else of the document.
    """
    found = (
        Document.objects.select_related("corpus")
        .filter(corpus__in=readable_corpora(request.user), pk=document_id)
        .first()
    )
    if found is None:
        if request.GET.get("answer") and may_review(request.user):
            return cited_passage(request, document_id)
        raise Http404("no such document that you may read")
    span = cited_span(found.text, request.GET.get("start"), request.GET.get("end"))
    document_view_record(viewer=request.user, document=found, span=span)
    context = {"document": found, "span_requested": "start" in request.GET or "end" in request.GET}
    if span:
        start, end = span
        context.update(
            before=found.text[:start], cited=found.text[start:end], after=found.text[end:]
        )
    return render(request, "portal/document.html", context)


def cited_passage(request, document_id: int):
    answer = visible_answers(request.user).filter(pk=parse_int(request.GET["answer"])).first()
    start, end = parse_int(request.GET.get("start")), parse_int(request.GET.get("end"))
    hit = answer and passage_cited(answer, document_id, start, end)
    if not hit:
        raise Http404("no passage of this document that the answer cites")
    found = Document.objects.select_related("corpus").get(pk=document_id)
    passage = found.text[hit["char_start"] : hit["char_end"]]
    local = cited_span(passage, start - hit["char_start"], end - hit["char_start"]) or (
        0,
        len(passage),
    )
    citation_view_record(viewer=request.user, answer=answer, hit=hit)
    context = {
        "document": found,
        "answer": answer,
        "hit": hit,
        "before": passage[: local[0]],
        "cited": passage[local[0] : local[1]],
        "after": passage[local[1] :],
    }
    return render(request, "portal/passage.html", context)


def passage_cited(answer, document_id: int, start: int | None, end: int | None) -> dict | None:
    """The source of `answer` in `document_id` that a statement cites and that holds the
    characters [start, end)."""
    if start is None or end is None:
        return None
    cited = cited_sources(answer)
    for hit in answer.hits:
        if (
            hit["number"] in cited
            and hit["document_id"] == document_id
            and hit["char_start"] <= start < end <= hit["char_end"]
        ):
            return hit
    return None


def parse_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def cited_span(text: str, start, end) -> tuple[int, int] | None:
    try:
        span = int(start), int(end)
    except (TypeError, ValueError):
        return None
    return span if 0 <= span[0] < span[1] <= len(text) else None
